/**
 * The capacity provider contract: what the capacity manager needs from whatever starts machines
 * (local processes, a cloud's instance groups). See docs/cluster-capacity.md.
 */
export interface CapacityProvider {
  /** Ids of the workers this provider started and that are still running (joined or not). */
  list(): Promise<string[]>;
  /** Starts `count` workers; resolves to their ids once asked for (they join the directory later). */
  add(count: number): Promise<string[]>;
  /** Drains the worker (no new environments, busy ones finish), then stops it. */
  remove(workerId: string): Promise<void>;
}
