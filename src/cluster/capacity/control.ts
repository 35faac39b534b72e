/**
 * The capacity manager as the control role runs it: every control node competes for the duty
 * (DutyLeadership, key `capacity` in KV `kiln-leaders`); the one that wins runs a CapacityManager
 * fed from the worker directory (concurrency in use = busy environments, cold starts = environments
 * created, free memory; see signals.ts) and driving this node's provider. Losing the duty stops
 * the manager (workers already started keep running); close() also stops the provider's workers.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock, Logger } from "../../base/index.js";
import { openLeadersBucket } from "../assignment/index.js";
import type { WorkerRecord } from "../workers/index.js";
import type { CapacityPolicy } from "./decide.js";
import { CAPACITY_LEADER_KEY, DutyLeadership } from "./leadership.js";
import { CapacityManager } from "./manager.js";
import type { CapacityProvider } from "./provider.js";
import { concurrencyInUse, CreationTally } from "./signals.js";

export interface CapacityControlOptions {
  nc: NatsConnection;
  nodeId: string;
  replicas: number;
  directory: { list(): WorkerRecord[] };
  /** This node's provider; its close() (if any) runs when the node closes. */
  provider: CapacityProvider & { close?(): Promise<void> };
  policy: Partial<CapacityPolicy>;
  intervalMs: number;
  clock: Clock;
  log: Logger;
  /** Leadership lease (default: the partitions', 3 s). */
  leaseMs?: number;
}

export interface CapacityControl {
  /** Whether this node runs the manager now. */
  readonly leading: boolean;
  close(): Promise<void>;
}

export async function startCapacityControl(o: CapacityControlOptions): Promise<CapacityControl> {
  const kv = await openLeadersBucket(o.nc, o.replicas);
  let manager: CapacityManager | undefined;
  let stopping: Promise<void> = Promise.resolve();
  const leadership = new DutyLeadership({
    nc: o.nc,
    kv,
    key: CAPACITY_LEADER_KEY,
    nodeId: o.nodeId,
    clock: o.clock,
    log: o.log,
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    onLead: () => {
      const tally = new CreationTally();
      const m = new CapacityManager({
        provider: o.provider,
        directory: o.directory,
        concurrencyInUse: () => concurrencyInUse(o.directory.list()),
        coldStarts: () => tally.observe(o.directory.list()),
        policy: o.policy,
        clock: o.clock,
        log: o.log,
        intervalMs: o.intervalMs,
      });
      // A previous manager of this node finishes its round first.
      void stopping.then(() => {
        if (manager !== m) return;
        m.start();
        void m.tick().then(
          (d) => o.log.debug("capacity decision", { ...d }),
          (e: unknown) => o.log.warn("capacity tick failed", { error: String(e) }),
        );
      });
      manager = m;
      o.log.info("running the capacity manager", { nodeId: o.nodeId, policy: JSON.stringify(o.policy) });
    },
    onLose: () => {
      const m = manager;
      manager = undefined;
      if (m) stopping = m.stop();
    },
  });
  leadership.start();
  return {
    get leading() {
      return leadership.leading;
    },
    close: async () => {
      await leadership.stop();
      await stopping;
      await o.provider.close?.();
    },
  };
}
