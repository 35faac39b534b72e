/**
 * Compare-and-set on a replicated KV bucket that holds on nats-server 2.9 before 2.9.21.
 *
 * There, a write's per-key expectation (`kv.update(key, value, revision)`, and `kv.create` of a
 * deleted key) is checked against the last *stored* revision, not counting writes still being
 * replicated, so two writers expecting the same revision can both succeed (nats-io/nats-server
 * #4320; measured here: 90-113 of 300 simultaneous takeovers had two or three winners, see
 * src/queue/nats/counters.ts). The stream-level expectation (`Nats-Expected-Last-Sequence`) is
 * checked against the sequence that counts pending writes, and held in every trial. So:
 *
 *   1. read the bucket stream's last sequence S;
 *   2. read the key's current revision from the stream leader (a replica may lag);
 *   3. if it is not the expected one, give up (someone else wrote it);
 *   4. publish the value expecting the stream's last sequence to still be S.
 *
 * Any write to the bucket after S makes step 4 fail; when that write was to another key (the key
 * is still at the expected revision), start over, a few times. Leadership buckets see a few writes
 * per second, so a retry is rare and cheap.
 *
 * Worked example: p3 holds revision 41 (leader a1, expired); a2 and a3 both read S = 57 and
 * revision 41, both publish expecting 57: one is stored as 58, the other is refused (wrong last
 * sequence); the loser reads revision 58 != 41 and follows.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const WRONG_LAST_SEQUENCE = 10071;
const ATTEMPTS = 5;

function isWrongLastSequence(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return err?.api_error?.err_code === WRONG_LAST_SEQUENCE || err?.code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(err?.message ?? "");
}

/** The key's current revision as the stream leader knows it (0 when absent or deleted). */
async function currentRevision(nc: NatsConnection, bucket: string, key: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const m = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` }).catch(() => null);
  if (!m) return 0;
  const op = m.header?.get("KV-Operation");
  return op === "DEL" || op === "PURGE" ? 0 : m.seq;
}

/**
 * Writes `value` at `key` only if the key is still at `expectedRevision` (0: absent or deleted).
 * Returns the new revision, or undefined when the key had moved on.
 */
export async function writeIfUnchanged(nc: NatsConnection, bucket: string, key: string, value: string, expectedRevision: number): Promise<number | undefined> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const last = (await jsm.streams.info(`KV_${bucket}`)).state.last_seq;
    if ((await currentRevision(nc, bucket, key)) !== expectedRevision) return undefined;
    try {
      const ack = await js.publish(`$KV.${bucket}.${key}`, value, { expect: { lastSequence: last } });
      return ack.seq;
    } catch (e) {
      if (!isWrongLastSequence(e)) throw e;
      // Another write landed in between: if it was this key, the next read says so.
    }
  }
  return undefined;
}
