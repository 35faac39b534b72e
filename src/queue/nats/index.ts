/** The cluster-mode async queue: a JetStream work-queue stream, durable pull consumers per lane, counters in KV (one record per queue instance, summed on read). */
export { openNatsQueue, NatsAsyncQueue, DuplicateEventError, type NatsQueueOptions } from "./queue.js";
export { DEFAULT_NAMES, laneToken, laneOfToken, type QueueNames } from "./names.js";
export { RECENT_DROPS_KEPT as NATS_RECENT_DROPS_KEPT } from "./counters.js";
