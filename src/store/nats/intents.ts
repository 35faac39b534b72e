/**
 * `batch(ops)` on a KV bucket without multi-key transactions (nats-server 2.9): an intent record
 * makes an acknowledged batch all-or-nothing across crashes.
 *
 * Algorithm:
 *   1. Expand: prefix deletes become deletes of the keys under the prefix now; read every touched
 *      key's current value and revision (its "before image").
 *   2. Check: every `expectedRevision` against the before image -> RevisionMismatchError, nothing
 *      written. A batch of one op is then written directly (a single CAS write is atomic).
 *   3. Intend: write the whole batch (ops, before images) to `txn.<id>` with state "apply".
 *   4. Apply the ops in order. Puts with an `expectedRevision` are CAS writes against the revision
 *      seen in step 1, so a writer that slipped in between step 1 and now is caught; other puts and
 *      deletes are plain writes (a delete of a key absent in step 1 is skipped).
 *   5. Done: delete the intent; the batch is acknowledged only after this.
 *   On a lost CAS in step 4: set the intent's state to "abort", restore the before images of the
 *   ops already applied (each a CAS against the revision this batch wrote, so a later writer's
 *   value is never clobbered), delete the intent, throw RevisionMismatchError.
 *
 * Recovery: any process opening the store, and then a sweep every 30 s, settles intents older than
 * a grace period (10 s; batches take milliseconds): "apply" intents roll forward (every op is an
 * absolute put/delete; an op whose key already holds the batch's value is skipped, and so is one
 * whose key was written by someone else since step 1: that write is newer), "abort" intents roll
 * back as above. So an acknowledged batch is never half-applied, and an unacknowledged one ends
 * up applied or undone.
 *
 * Worked example: batch [put functions/a@7, put meta/a@3]. Step 1 reads a@7, meta/a@3; step 3
 * writes txn.k2x9 (seq 40); step 4 writes a -> seq 41, meta/a -> seq 42; step 5 deletes txn.k2x9.
 * If the process dies after seq 41, the next process opening the store finds txn.k2x9, sees a
 * holds the batch's value (skip), meta/a still at revision 3 (apply), then deletes txn.k2x9.
 *
 * Caveats: readers may briefly see part of a batch (between steps 3 and 5, or until recovery);
 * unconditional puts and deletes are plain writes (last writer wins), and rolling one back
 * restores the value read in step 1 (unless the key changed again since); keys created under a
 * prefix after step 1 survive a prefix delete (as if written after the batch); a crash between
 * steps 1 and 4 while another writer changes a key of the batch leaves that op skipped at
 * roll-forward (the other write is newer) and the rest applied: all-or-none then holds per key,
 * not for the whole batch; a batch's intent (values and before images) must fit one message
 * (1 MB by default); a process stalled longer than the grace period may see its batch settled by
 * another.
 */
import { randomBytes } from "node:crypto";
import type { KV } from "@nats-io/kv";
import { RevisionMismatchError, type BatchOp } from "../contract.js";
import { documentKey, INTENT_ROOT } from "./keys.js";
import { isWrongLastSequence } from "./kv-errors.js";
import type { Clock } from "../../base/index.js";

export const DEFAULT_INTENT_GRACE_MS = 10_000;
export const DEFAULT_SWEEP_EVERY_MS = 30_000;

interface IntentOp {
  collection: string;
  key: string;
  /** The JSON to write; absent for a delete. */
  json?: string;
  cas: boolean;
  /** Revision and JSON of the key in step 1 (0 / undefined: absent). */
  beforeRevision: number;
  beforeJson?: string;
}

interface Intent {
  id: string;
  created: number;
  state: "apply" | "abort";
  ops: IntentOp[];
}

/** Lists keys under a prefix (the metadata store's listing). */
export interface KeyLister {
  keysUnder(collection: string, prefix: string): Promise<string[]>;
  /** NATS KV keys matching a subject filter (deleted ones included). */
  natsKeys(filter: string): Promise<string[]>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class BatchWriter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KV,
    private readonly clock: Clock,
    private readonly lister: KeyLister,
    private readonly opts: { intentGraceMs?: number; sweepEveryMs?: number } = {},
  ) {}

  async start(): Promise<number> {
    const settled = await this.sweep();
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), this.opts.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS);
    this.timer.unref();
    return settled;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async run(batch: BatchOp[]): Promise<void> {
    const ops = await this.expand(batch);
    if (ops.length === 0) return;
    if (ops.length === 1) {
      await this.applyOne(ops[0]!);
      return;
    }
    const intent: Intent = { id: randomBytes(8).toString("hex"), created: this.clock.now(), state: "apply", ops };
    const intentKey = `${INTENT_ROOT}.${intent.id}`;
    let intentRev = await this.kv.create(intentKey, encoder.encode(JSON.stringify(intent)));
    const written: number[] = [];
    for (const op of ops) {
      try {
        written.push(await this.applyOne(op));
      } catch (e) {
        if (!(e instanceof RevisionMismatchError)) throw e; // the intent stays; recovery settles it
        intentRev = await this.kv.update(intentKey, encoder.encode(JSON.stringify({ ...intent, state: "abort" })), intentRev);
        for (let i = written.length - 1; i >= 0; i--) await this.undo(ops[i]!, written[i]!);
        await this.kv.delete(intentKey);
        throw e;
      }
    }
    await this.kv.delete(intentKey);
  }

  /** Settles the intents older than the grace period; returns how many. */
  async sweep(): Promise<number> {
    const keys = await this.lister.natsKeys(`${INTENT_ROOT}.>`);
    let settled = 0;
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT") continue;
      const intent = e.json<Intent>();
      if (this.clock.now() - intent.created < (this.opts.intentGraceMs ?? DEFAULT_INTENT_GRACE_MS)) continue;
      if (intent.state === "apply") for (const op of intent.ops) await this.rollForward(op);
      else for (const op of [...intent.ops].reverse()) await this.rollBack(op);
      await this.kv.delete(k, { previousSeq: e.revision }).catch(() => undefined);
      settled++;
    }
    return settled;
  }

  private async expand(batch: BatchOp[]): Promise<IntentOp[]> {
    const ops: IntentOp[] = [];
    const seen = new Map<string, IntentOp>();
    for (const op of batch) {
      const keys = op.op === "delete" && op.prefix ? await this.lister.keysUnder(op.collection, op.key) : [op.key];
      for (const key of keys) {
        const id = documentKey(op.collection, key);
        const previous = seen.get(id);
        const before = previous ? undefined : await this.kv.get(id);
        const live = before?.operation === "PUT";
        const beforeRevision = previous ? -1 : live ? before!.revision : 0;
        const next: IntentOp = { collection: op.collection, key, cas: false, beforeRevision };
        if (live) next.beforeJson = decoder.decode(before!.value);
        if (op.op === "put") {
          next.json = JSON.stringify(op.value);
          if (op.expectedRevision !== undefined && !previous && op.expectedRevision !== beforeRevision) throw new RevisionMismatchError(op.collection, key);
          next.cas = op.expectedRevision !== undefined;
        }
        seen.set(id, next);
        ops.push(next);
      }
    }
    return ops;
  }

  /** Writes one op (CAS against its before revision where `cas`); returns the revision written. */
  private async applyOne(op: IntentOp): Promise<number> {
    const id = documentKey(op.collection, op.key);
    try {
      if (op.json === undefined) {
        if (op.beforeRevision === 0) return 0;
        await this.kv.delete(id);
        return 0;
      }
      const data = encoder.encode(op.json);
      if (!op.cas || op.beforeRevision < 0) return await this.kv.put(id, data);
      if (op.beforeRevision === 0) return await this.kv.create(id, data);
      return await this.kv.update(id, data, op.beforeRevision);
    } catch (e) {
      if (isWrongLastSequence(e)) throw new RevisionMismatchError(op.collection, op.key);
      throw e;
    }
  }

  /** Restores one applied op's before image unless someone wrote the key since. */
  private async undo(op: IntentOp, writtenRevision: number): Promise<void> {
    const id = documentKey(op.collection, op.key);
    try {
      if (op.json === undefined) {
        if (op.beforeJson !== undefined) await this.kv.create(id, encoder.encode(op.beforeJson));
      } else if (op.beforeJson === undefined) await this.kv.delete(id, { previousSeq: writtenRevision });
      else await this.kv.update(id, encoder.encode(op.beforeJson), writtenRevision);
    } catch (e) {
      if (!isWrongLastSequence(e)) throw e; // lost: a later write stands
    }
  }

  private async rollForward(op: IntentOp): Promise<void> {
    const id = documentKey(op.collection, op.key);
    const cur = await this.kv.get(id);
    const live = cur?.operation === "PUT";
    const currentJson = live ? decoder.decode(cur!.value) : undefined;
    if (currentJson === op.json) return; // already applied (or a delete of an absent key)
    const untouched = op.beforeRevision < 0 || (live ? cur!.revision === op.beforeRevision : op.beforeRevision === 0);
    if (!untouched) return; // written by someone else since: that write is newer
    try {
      if (op.json === undefined) await this.kv.delete(id, { previousSeq: cur!.revision });
      else if (live) await this.kv.update(id, encoder.encode(op.json), cur!.revision);
      else await this.kv.create(id, encoder.encode(op.json));
    } catch (e) {
      if (!isWrongLastSequence(e)) throw e;
    }
  }

  private async rollBack(op: IntentOp): Promise<void> {
    const id = documentKey(op.collection, op.key);
    const cur = await this.kv.get(id);
    const live = cur?.operation === "PUT";
    const currentJson = live ? decoder.decode(cur!.value) : undefined;
    if (currentJson !== op.json || currentJson === op.beforeJson) return; // not ours (or nothing to undo)
    await this.undo(op, cur?.revision ?? 0);
  }
}
