/**
 * Pure decisions over lease records: the per-message state JetStream cannot hold in the message.
 *
 * A stored message never changes; what changes per event lives in one KV record keyed by the
 * message's stream sequence (`l.<lane>.<seq>`), written when the event is leased and when it is
 * retried, deleted when it is settled for good:
 * - `leasedDc`: the delivery count of the last delivery handed out as a lease, `leaseUntil` its end;
 * - `settledDc`: the delivery count of the last lease settled by `retryAt`, with the retry state
 *   (`attempts`, `backoffs`, `lastError`) and `visibleAt`.
 * A delivery is a *redelivery* when the last lease handed out was never settled
 * (`leasedDc > settledDc`): JetStream's own delivery count would also count the deliveries NAK'd
 * because they came before their `visibleAt`, which are not leases.
 */
import type { LaneSummary } from "../contract.js";

export interface LeaseRecord {
  /** receivedAt of the event (for summaries without reading the message). */
  receivedAt: number;
  leasedDc: number;
  leaseUntil: number;
  settledDc: number;
  visibleAt?: number;
  attempts: number;
  backoffs: number;
  lastError?: string;
}

export type DeliveryDecision =
  | { kind: "early"; visibleAt: number }
  | { kind: "lease"; redelivered: boolean; record: LeaseRecord };

/** What to do with delivery `dc` of a message, given its record (if any) and the message's own state. */
export function onDelivery(rec: LeaseRecord | undefined, dc: number, receivedAt: number, now: number, leaseMs: number): DeliveryDecision {
  if (rec?.visibleAt !== undefined && rec.settledDc >= rec.leasedDc && rec.visibleAt > now) return { kind: "early", visibleAt: rec.visibleAt };
  const redelivered = rec !== undefined && rec.leasedDc > rec.settledDc;
  const record: LeaseRecord = {
    receivedAt,
    leasedDc: dc,
    leaseUntil: now + leaseMs,
    settledDc: rec?.settledDc ?? 0,
    attempts: rec?.attempts ?? 0,
    backoffs: rec?.backoffs ?? 0,
  };
  if (rec?.lastError !== undefined) record.lastError = rec.lastError;
  return { kind: "lease", redelivered, record };
}

/** The record after the lease of delivery `dc` is settled by a retry visible at `at`. */
export function retried(rec: LeaseRecord, dc: number, at: number, change: { attempts: number; backoffs: number; lastError?: string }): LeaseRecord {
  const r: LeaseRecord = { receivedAt: rec.receivedAt, leasedDc: dc, leaseUntil: rec.leaseUntil, settledDc: dc, visibleAt: at, attempts: change.attempts, backoffs: change.backoffs };
  if (change.lastError !== undefined) r.lastError = change.lastError;
  return r;
}

/**
 * One lane's figures at `now`, from its message count, the receivedAt of its first message and
 * the records of its messages still stored (`firstSeq` and above). An event without a record
 * was never leased: it is ready. A record is in flight while its lease runs, waiting while its
 * retry is not due, ready otherwise (an expired lease, a due retry).
 */
export function summarize(lane: string, depth: number, firstReceivedAt: number | undefined, records: LeaseRecord[], now: number): LaneSummary {
  let inFlight = 0;
  let waiting = 0;
  let next: number | undefined;
  let oldest = firstReceivedAt;
  const later = (t: number) => (next = next === undefined ? t : Math.min(next, t));
  for (const r of records) {
    if (oldest === undefined || r.receivedAt < oldest) oldest = r.receivedAt;
    if (r.leasedDc > r.settledDc) {
      if (r.leaseUntil > now) {
        inFlight++;
        later(r.leaseUntil);
      }
    } else if (r.visibleAt !== undefined && r.visibleAt > now) {
      waiting++;
      later(r.visibleAt);
    }
  }
  inFlight = Math.min(inFlight, depth);
  waiting = Math.min(waiting, depth - inFlight);
  const s: LaneSummary = { lane, depth, ready: depth - inFlight - waiting, inFlight };
  if (next !== undefined) s.nextVisibleAt = next;
  if (depth > 0 && oldest !== undefined) s.oldestReceivedAt = oldest;
  return s;
}
