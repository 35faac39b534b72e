/**
 * store: metadata and log storage contracts, with the standalone SQLite implementation.
 * One conformance suite (`store.case.ts`) runs against every implementation.
 * Must not import any other component but base.
 */
export * from "./contract.js";
export { openSqliteStores, type SqliteStores } from "./sqlite/index.js";
