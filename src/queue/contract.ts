/**
 * The async event queue contract. Transport-neutral: standalone Kiln keeps it in SQLite
 * (`sqlite/`); the cluster mode maps it onto a JetStream work-queue stream with one subject per
 * lane and durable pull consumers (lease = fetch with AckWait, ack = ack, retryAt = NAK with
 * delay, dead = term + a record on a dead-letter subject, counters = a KV bucket).
 *
 * Vocabulary:
 * - an *event* is one accepted asynchronous invocation; its id is the request id the client got
 *   with its 202, kept across retries;
 * - a *lane* holds the events of one function (`<accountId>/<functionName>`): the pollers lease
 *   from lanes in turn, so one function's backlog never starves another's;
 * - a *lease* hides an event from other pollers until it is settled (ack, retryAt, dead) or until
 *   the lease expires, after which the event is delivered again (a *redelivery*, counted: the
 *   only way an event can run twice);
 * - *settling* is atomic: the event's new state, its follow-up events (destination and
 *   dead-letter deliveries) and the lane's counters change together or not at all.
 */

/** Which function an event runs: the destination of its queue lane. */
export interface EventTarget {
  accountId: string;
  functionName: string;
  /** Version or alias as invoked; absent means $LATEST. */
  qualifier?: string;
}

/** Why an event exists. */
export type EventSource = "invoke" | "destination" | "dead-letter";

export interface NewEvent {
  /** The request id: unique, and the same for every attempt. */
  id: string;
  target: EventTarget;
  payload: Buffer;
  /** Wall-clock ms when it was accepted: the event's age counts from here. */
  receivedAt: number;
  source: EventSource;
}

export interface QueuedEvent extends NewEvent {
  lane: string;
  /** Times the function ran this event (Lambda's approximateInvokeCount). */
  attempts: number;
  /** Consecutive requeues after throttles or platform errors (drives the backoff). */
  backoffs: number;
  /** A one-line reason of the last failure, if any. */
  lastError?: string;
}

export interface LeasedEvent extends QueuedEvent {
  /** Proof of this lease: settling with an older receipt changes nothing. */
  receipt: number;
  /** An earlier lease of this event ended without being settled (crash or expiry). */
  redelivered: boolean;
}

/** What settling needs to know about a lease (a LeasedEvent is one). */
export interface LeaseRef {
  id: string;
  lane: string;
  receipt: number;
}

/**
 * Per-lane counters. The Lambda metric names are AsyncEventsReceived (`received`) and
 * AsyncEventsDropped (`dropped`, split by reason in the `dropped*` counters).
 */
export const COUNTERS = [
  "received",
  "succeeded",
  "functionErrors",
  "retries",
  "throttles",
  "platformErrors",
  "redelivered",
  "dropped",
  "droppedRetriesExhausted",
  "droppedEventAgeExceeded",
  "droppedFunctionNotFound",
  "droppedRejected",
  "destinationDeliveries",
  "deadLetterDeliveries",
] as const;
export type CounterName = (typeof COUNTERS)[number];
export type LaneCounters = Record<CounterName, number>;

/** What else changes when an event is settled. */
export interface Settlement {
  /** New events enqueued in the same transaction (destination records, dead letters). */
  followUps?: NewEvent[];
  /** Increments of this lane's counters. */
  counters?: Partial<Record<CounterName, number>>;
  /** The event's final attempt count, for the drop record (default: the stored one). */
  attempts?: number;
}

export interface RetryChange {
  attempts: number;
  backoffs: number;
  lastError?: string;
}

export interface LaneSummary {
  lane: string;
  /** Events in the lane: waiting, ready and leased. */
  depth: number;
  /** Visible now (includes events whose lease expired). */
  ready: number;
  /** Leased and not expired. */
  inFlight: number;
  /** Earliest time a not-yet-visible event becomes visible. */
  nextVisibleAt?: number;
  /** receivedAt of the oldest event in the lane. */
  oldestReceivedAt?: number;
}

export interface DroppedEvent {
  id: string;
  reason: string;
  droppedAt: number;
  attempts: number;
}

export interface LaneStats extends LaneSummary {
  counters: LaneCounters;
  /** The most recent drops, newest first. */
  recentDrops: DroppedEvent[];
}

export interface AsyncEventQueue {
  /** Stores the events durably, then resolves. Counts `received` per lane. */
  enqueue(events: NewEvent[]): Promise<void>;
  /**
   * Leases up to `n` visible events of `lane`, oldest first, hiding them until `now + leaseMs`.
   * Counts `redelivered` for events whose earlier lease was never settled.
   */
  lease(lane: string, n: number, now: number, leaseMs: number): Promise<LeasedEvent[]>;
  /** Done: removes the event. False (and no change) when the lease is stale. */
  ack(lease: LeaseRef, s?: Settlement): Promise<boolean>;
  /** Back in the queue, visible again at `at`, with its new retry state. */
  retryAt(lease: LeaseRef, at: number, change: RetryChange, s?: Settlement): Promise<boolean>;
  /** Removed as failed at `now`: kept in the lane's recent drops with the reason. */
  dead(lease: LeaseRef, reason: string, now: number, s?: Settlement): Promise<boolean>;
  /** Every lane holding events, as of `now`. */
  lanes(now: number): Promise<LaneSummary[]>;
  /** One lane's queue figures and counters (zeros for an unknown lane). */
  stats(lane: string, now: number): Promise<LaneStats>;
  close(): Promise<void>;
}

/** The lane of a target: one per function, whatever the qualifier. */
export const laneOf = (t: Pick<EventTarget, "accountId" | "functionName">): string => `${t.accountId}/${t.functionName}`;

export function zeroCounters(): LaneCounters {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as LaneCounters;
}
