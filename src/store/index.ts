/**
 * store: metadata, log and blob storage contracts, with the standalone SQLite implementation and
 * the cluster-mode NATS JetStream one.
 * One conformance suite (`store.case.ts`) runs against every implementation.
 * Must not import any other component but base.
 */
export * from "./contract.js";
export { openSqliteStores, type SqliteStores } from "./sqlite/index.js";
export {
  openNatsStores,
  NatsMetadataStore,
  NatsLogStore,
  NatsBlobStore,
  METADATA_BUCKET,
  CODE_OBJECT_STORE,
  type NatsStores,
  type NatsStoreOptions,
} from "./nats/index.js";
