/**
 * queue: the durable queue of asynchronous invocations (Invoke with InvocationType Event): one
 * contract (`contract.ts`), a SQLite implementation for standalone Kiln, a NATS JetStream one for
 * the cluster mode (`nats/`), and the conformance suite every implementation runs (`queue.case.ts`).
 * Holds events; decides nothing about them (the pollers component does). Must not import any
 * component but base.
 */
export * from "./contract.js";
export { openSqliteQueue, SqliteAsyncQueue, RECENT_DROPS_KEPT, type SqliteQueueOptions } from "./sqlite/index.js";
export { openNatsQueue, NatsAsyncQueue, type NatsQueueOptions } from "./nats/index.js";
