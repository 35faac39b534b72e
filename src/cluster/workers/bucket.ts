/** Opens (creating if needed) KV `kiln-workers`, where worker nodes heartbeat. */
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { WORKERS_BUCKET } from "./record.js";

/**
 * Keys left behind by workers that died are removed by the server after `maxAgeMs` (default 60 s);
 * watchers are not told (nats-server 2.9), so the directory expires entries itself.
 */
export async function openWorkersBucket(nc: NatsConnection, opts: { replicas?: number; maxAgeMs?: number } = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(WORKERS_BUCKET, { replicas: opts.replicas ?? 1, history: 1, ttl: opts.maxAgeMs ?? 60_000 });
  } catch (e) {
    // Created by another node with other settings: use it as it is.
    try {
      return await kvm.open(WORKERS_BUCKET);
    } catch {
      throw e;
    }
  }
}
