/**
 * queue: the durable queue of asynchronous invocations (Invoke with InvocationType Event): one
 * contract (`contract.ts`), a SQLite implementation for standalone Kiln, and the conformance suite
 * every implementation runs (`queue.case.ts`). Holds events; decides nothing about them (the
 * pollers component does). Must not import any component but base.
 */
export * from "./contract.js";
export { openSqliteQueue, SqliteAsyncQueue, RECENT_DROPS_KEPT, type SqliteQueueOptions } from "./sqlite/index.js";
