/**
 * Reads of the queue's KV bucket that see every write acknowledged before them, from any node.
 *
 * `kv.get` is a direct get when the bucket allows it (the default), and any replica answers it,
 * including one still applying the log; `kv.keys` lists keys through an ephemeral consumer and
 * ends early when a heartbeat comes before the keys. On a loaded 3-node cluster (nats-server
 * 2.9.10) a `stats` read right after two instances' puts, through the third node, found no
 * counter at all. So these reads go to the stream leader instead: the keys from the stream's
 * per-subject counts (`STREAM.INFO` with a subjects filter), each value with `STREAM.MSG.GET`
 * (last message of the key's subject). One request per key, plus one for the listing.
 *
 * Example: bucket `kiln-async-counters`, filter `c.000000000000_2Ff.*` -> subjects
 * `$KV.kiln-async-counters.c.000000000000_2Ff.<instance>` of each instance, their last values.
 *
 * Caveat: a key whose last entry is a delete marker still has a subject; it reads as absent.
 */
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";

const streamOf = (bucket: string): string => `KV_${bucket}`;
const subjectOf = (bucket: string, key: string): string => `$KV.${bucket}.${key}`;

function valueOf(m: StoredMsg | null): unknown {
  if (m === null) return undefined;
  const op = m.header?.get("KV-Operation");
  if (op === "DEL" || op === "PURGE") return undefined;
  return m.json();
}

/** The current JSON value of `key`, or undefined when absent or deleted. */
export async function readKey(jsm: JetStreamManager, bucket: string, key: string): Promise<unknown> {
  return valueOf(await jsm.streams.getMessage(streamOf(bucket), { last_by_subj: subjectOf(bucket, key) }));
}

/** The keys matching a KV filter (`*`, `>` wildcards), with their current JSON values (absent ones left out). */
export async function readKeys(jsm: JetStreamManager, bucket: string, filter: string): Promise<Array<{ key: string; value: unknown }>> {
  const prefix = subjectOf(bucket, "");
  const info = await jsm.streams.info(streamOf(bucket), { subjects_filter: subjectOf(bucket, filter) });
  const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
  const read = await Promise.all(keys.map(async (key) => ({ key, value: await readKey(jsm, bucket, key) })));
  return read.filter((r) => r.value !== undefined);
}
