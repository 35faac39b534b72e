/**
 * Every live entry of a small KV bucket (nodes, workers, leaders), read without `kv.keys()`: that
 * creates a temporary consumer, which nats-server 2.9 may place on a stopped node or stall while
 * keys are deleted. The stream's per-subject counts list the keys; each is then read by a bounded
 * get. For status displays and tests, not for hot paths.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

export async function readBucket<T>(nc: NatsConnection, bucket: string): Promise<Array<{ key: string; value: T }>> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const root = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${root}>` }).catch(() => undefined);
  if (!info) return [];
  const kv = await new Kvm(nc).open(bucket);
  const out: Array<{ key: string; value: T }> = [];
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const key = subject.slice(root.length);
    const e = await kv.get(key).catch(() => null);
    if (e?.operation !== "PUT") continue;
    try {
      out.push({ key, value: e.json<T>() });
    } catch {
      // not a record of ours: skip it
    }
  }
  return out;
}
