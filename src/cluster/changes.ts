/**
 * The control plane's change feed across nodes. A change made on one node (a function updated,
 * deleted, its concurrency set...) must reach every node's invoke path: resolution caches,
 * counting allocations, draining of old environments. Each node publishes its registry's changes
 * on `kiln.changes` and replays the other nodes' changes into its own registry's listeners.
 *
 * Known caveats: core NATS, at most once. A node that misses a change (disconnected at that
 * moment) serves a stale cached resolution until it ages out: cluster frontends trust a cached
 * plan for a few seconds only (`planTtlMs` in frontend/invoke.ts).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { FunctionChange } from "../control/index.js";

export const CHANGES_SUBJECT = "kiln.changes";

interface ChangeMessage {
  origin: string;
  change: FunctionChange;
}

export interface ChangeSource {
  onChange(listener: (c: FunctionChange) => void): void;
  emit(c: FunctionChange): void;
}

/** Shares `registry`'s changes with the other nodes and replays theirs; returns the stop function. */
export function shareChanges(nc: NatsConnection, nodeId: string, registry: ChangeSource): () => void {
  let replaying = false;
  registry.onChange((change) => {
    if (replaying || nc.isClosed()) return;
    nc.publish(CHANGES_SUBJECT, JSON.stringify({ origin: nodeId, change } satisfies ChangeMessage));
  });
  const sub = nc.subscribe(CHANGES_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      let m: ChangeMessage;
      try {
        m = msg.json<ChangeMessage>();
      } catch {
        return;
      }
      if (m.origin === nodeId || typeof m.change?.kind !== "string") return;
      replaying = true;
      try {
        registry.emit(m.change);
      } finally {
        replaying = false;
      }
    },
  });
  return () => sub.unsubscribe();
}
