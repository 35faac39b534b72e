/**
 * Partition leadership, the decision half: given what the KV entry `p<N>` of bucket `kiln-leaders`
 * holds and what this node believes, what to do next. The I/O half (leadership.ts) reads the
 * entry, calls `decide`, and performs the write with compare-and-set.
 *
 * Algorithm (a lease with fencing terms):
 * - no entry (never written, deleted, or expired out of the bucket by its TTL): `create` it
 *   (succeeds only if still absent), term = last term seen + 1.
 * - the entry names another node and its `expiresAt` has passed by our clock: `takeover` with an
 *   `update` at the revision we saw (CAS: of several contenders only one wins), term + 1.
 * - the entry names another node, not yet expired: `follow` it.
 * - we lead: `renew` every lease/3 with an `update` at the revision of our own last write. A CAS
 *   failure means someone else wrote the entry: step down at once. If we could not renew before
 *   our own `expiresAt` (the broker was unreachable), step down too: a follower may now take over.
 * - the entry names us but we do not lead (we restarted with the same node id): take it back
 *   with term + 1, like a takeover.
 *
 * Worked example (lease 3000): A creates p0 {A, term 1, expiresAt 3000} at t=0, renews at 1000 and
 * 2000 (expiresAt 5000). A dies at 2100. B reads at 3000: not expired (5000) -> follow. At 5000 B
 * reads: expired -> takeover {B, term 2, expiresAt 8000}, CAS at the revision it read. Worst case
 * takeover time: lease + one poll interval (lease/3) = 4 s for the 3 s default.
 *
 * Known caveats: expiry is judged by each node's wall clock; a follower whose clock runs ahead of
 * the leader's by more than (lease - renew interval) can take over from a live leader. The old
 * leader then learns of it at its next renew (CAS fails) and steps down: a split-brain window of
 * at most one renew interval. Terms fence journal writes (followers ignore older terms) but not
 * RPC replies already sent in that window.
 */

export const DEFAULT_LEASE_MS = 3000;

export interface LeaderRecord {
  nodeId: string;
  term: number;
  /** Wall-clock ms after which another node may take over. */
  expiresAt: number;
}

/** The entry as read: its value and KV revision (undefined: absent, deleted or purged). */
export interface SeenEntry {
  record: LeaderRecord;
  revision: number;
}

/** What this node holds: set while it leads a partition. */
export interface Holding {
  term: number;
  /** Revision of our last successful write of the entry. */
  revision: number;
  expiresAt: number;
}

export type LeadershipAction =
  | { kind: "create"; record: LeaderRecord }
  | { kind: "takeover"; revision: number; record: LeaderRecord }
  | { kind: "renew"; revision: number; record: LeaderRecord }
  | { kind: "follow"; leader: LeaderRecord }
  | { kind: "step-down"; reason: "lease-lost" };

export interface DecideInput {
  self: string;
  now: number;
  leaseMs: number;
  /** Set when we lead; the leader does not read the entry before renewing. */
  holding?: Holding;
  /** The entry as read (followers only). */
  seen?: SeenEntry;
  /** Highest term this node has seen for the partition (when the entry vanished). */
  lastTerm?: number;
}

export function decide(i: DecideInput): LeadershipAction {
  const expiresAt = i.now + i.leaseMs;
  if (i.holding) {
    if (i.now >= i.holding.expiresAt) return { kind: "step-down", reason: "lease-lost" };
    return { kind: "renew", revision: i.holding.revision, record: { nodeId: i.self, term: i.holding.term, expiresAt } };
  }
  if (!i.seen) return { kind: "create", record: { nodeId: i.self, term: (i.lastTerm ?? 0) + 1, expiresAt } };
  const cur = i.seen.record;
  if (cur.nodeId === i.self || i.now >= cur.expiresAt) {
    return { kind: "takeover", revision: i.seen.revision, record: { nodeId: i.self, term: Math.max(cur.term, i.lastTerm ?? 0) + 1, expiresAt } };
  }
  return { kind: "follow", leader: cur };
}

/** A leader entry from its decoded JSON value; undefined when it is not one (a foreign value). */
export function leaderRecordOf(value: unknown): LeaderRecord | undefined {
  const v = (value ?? {}) as Partial<LeaderRecord>;
  if (typeof v.nodeId === "string" && typeof v.term === "number" && typeof v.expiresAt === "number") return { nodeId: v.nodeId, term: v.term, expiresAt: v.expiresAt };
  return undefined;
}

/** Parses a leader entry's value; undefined when it is not one (a foreign or corrupt value). */
export function parseLeaderRecord(bytes: Uint8Array): LeaderRecord | undefined {
  try {
    return leaderRecordOf(JSON.parse(Buffer.from(bytes).toString("utf8")));
  } catch {
    return undefined; // not JSON
  }
}

export const leaderKey = (partition: number): string => `p${partition}`;
