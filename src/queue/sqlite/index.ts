/** The standalone async queue: SQLite, one file in the data dir. */
export { openSqliteQueue, SqliteAsyncQueue, RECENT_DROPS_KEPT, type SqliteQueueOptions } from "./queue.js";
