/** The standalone async queue: SQLite, one file in the data dir, written by its own thread. */
export { openSqliteQueue, SqliteAsyncQueue, type SqliteQueueOptions } from "./queue.js";
export { RECENT_DROPS_KEPT } from "./store.js";
