/**
 * The assignment journal, pure half: subjects and records on stream `KILN_ASSIGN`, and how a
 * follower folds them into the partition's state.
 *
 * Layout: one subject per environment, `kiln.assign.journal.<p>.<environmentId>`, holding
 * `{ term, entry }` (entry null = removed), and one per provisioned target,
 * `kiln.assign.journal.<p>.target.<base64url configKey>`, holding `{ term, target }` (null =
 * none). The stream keeps one message per subject (max_msgs_per_subject 1), so it always holds
 * the latest state of every environment: replay from the start costs O(live environments), not
 * O(history). Tombstones (null) are purged by the leader a while after it wrote them.
 *
 * Fencing: a follower keeps the highest term it has seen and ignores records with a lower one (a
 * deposed leader that has not noticed yet).
 *
 * Worked example: leader term 2 writes e1 {initializing}, e1 {busy}, e1 {idle}; the stream keeps
 * only e1 {idle}; a follower that starts now replays one message and holds e1 idle. A late write
 * e1 {busy} with term 1 from the old leader is ignored.
 *
 * Known caveats: the stream replaces a subject's message whatever its term, so a stale write
 * from a deposed leader that lands after the new leader's last write of that subject wins for a
 * follower that replays from scratch later (not for one that saw both). The window is the
 * split-brain window of election.ts.
 */
import type { EnvironmentEntry } from "../../assignment/index.js";

export const ASSIGN_STREAM = "KILN_ASSIGN";
export const JOURNAL_ROOT = "kiln.assign.journal";

export const partitionFilter = (partition: number): string => `${JOURNAL_ROOT}.${partition}.>`;
export const environmentSubject = (partition: number, environmentId: string): string => `${JOURNAL_ROOT}.${partition}.${environmentId}`;
export const targetSubject = (partition: number, configKey: string): string =>
  `${JOURNAL_ROOT}.${partition}.target.${Buffer.from(configKey, "utf8").toString("base64url")}`;

/** A provisioned concurrency target as journaled (the spec travels as data). */
export interface JournaledTarget<Spec> {
  count: number;
  memoryMB: number;
  spec: Spec;
}

export interface EnvironmentRecord {
  term: number;
  entry: EnvironmentEntry | null;
}

export interface TargetRecord<Spec> {
  term: number;
  target: JournaledTarget<Spec> | null;
}

/** What a follower holds for one partition. */
export interface PartitionState<Spec> {
  term: number;
  entries: Map<string, EnvironmentEntry>;
  targets: Map<string, JournaledTarget<Spec>>;
  /** Subjects whose last record is a tombstone (the next leader purges them). */
  tombstones: Set<string>;
}

export const emptyPartitionState = <Spec>(): PartitionState<Spec> => ({ term: 0, entries: new Map(), targets: new Map(), tombstones: new Set() });

export type JournalKey = { kind: "environment"; id: string } | { kind: "target"; configKey: string };

/** What a journal subject is about; undefined for a subject outside the partition's layout. */
export function parseJournalSubject(partition: number, subject: string): JournalKey | undefined {
  const prefix = `${JOURNAL_ROOT}.${partition}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const rest = subject.slice(prefix.length).split(".");
  if (rest.length === 1 && rest[0]) return { kind: "environment", id: rest[0] };
  if (rest.length === 2 && rest[0] === "target" && rest[1]) return { kind: "target", configKey: Buffer.from(rest[1], "base64url").toString("utf8") };
  return undefined;
}

/** Folds one journal record into the state; returns false when it was ignored (older term, foreign subject). */
export function applyJournal<Spec>(state: PartitionState<Spec>, partition: number, subject: string, record: { term: number; entry?: EnvironmentEntry | null; target?: JournaledTarget<Spec> | null }): boolean {
  const key = parseJournalSubject(partition, subject);
  if (!key || typeof record.term !== "number" || record.term < state.term) return false;
  state.term = record.term;
  if (key.kind === "environment") {
    if (record.entry) {
      state.entries.set(key.id, record.entry);
      state.tombstones.delete(subject);
    } else {
      state.entries.delete(key.id);
      state.tombstones.add(subject);
    }
  } else if (record.target) {
    state.targets.set(key.configKey, record.target);
    state.tombstones.delete(subject);
  } else {
    state.targets.delete(key.configKey);
    state.tombstones.add(subject);
  }
  return true;
}
