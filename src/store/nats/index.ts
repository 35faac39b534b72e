/**
 * Cluster-mode stores on NATS JetStream: metadata in the KV bucket `kiln-meta`, logs in the
 * stream `KILN_LOGS`, code packages and snapshot blobs in the object store `kiln-code`. Opening
 * creates each resource, or binds to it when it exists (every node opens the same ones), and rolls
 * forward batches a crashed process left behind (see intents.ts).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { systemClock, type Clock } from "../../base/index.js";
import { NatsMetadataStore } from "./metadata.js";
import { NatsLogStore, LOG_STREAM, LOG_SUBJECT_ROOT, DEFAULT_MAX_EVENTS_PER_STREAM } from "./logs.js";
import { NatsBlobStore } from "./blobs.js";

export { NatsMetadataStore } from "./metadata.js";
export { NatsLogStore } from "./logs.js";
export { NatsBlobStore } from "./blobs.js";

export const METADATA_BUCKET = "kiln-meta";
export const CODE_OBJECT_STORE = "kiln-code";
/** How long creating a log scan's consumer may take before the scan reads message by message. */
export const SCAN_CONSUMER_TIMEOUT_MS = 1500;

export interface NatsStoreOptions {
  /** Replicas of every bucket and stream: 1 for a single server, 3 for a 3-node cluster. */
  replicas: number;
  clock?: Clock;
  /** Resource names (tests use their own): defaults kiln-meta, KILN_LOGS (subjects kiln.logs.>), kiln-code. */
  names?: { metadata?: string; logs?: string; logSubjects?: string; blobs?: string };
  /** Newest events kept per log stream. */
  maxEventsPerLogStream?: number;
}

export interface NatsStores {
  metadata: NatsMetadataStore;
  logs: NatsLogStore;
  blobs: NatsBlobStore;
  close(): Promise<void>;
}

export async function openNatsStores(nc: NatsConnection, opts: NatsStoreOptions): Promise<NatsStores> {
  const clock = opts.clock ?? systemClock;
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const bucket = opts.names?.metadata ?? METADATA_BUCKET;
  const kv = await retryOnce(() => new Kvm(js).create(bucket, { replicas: opts.replicas, history: 1, allow_direct: false }));
  const logStream = opts.names?.logs ?? LOG_STREAM;
  await ensureStream(jsm, {
    name: logStream,
    subjects: [`${opts.names?.logSubjects ?? LOG_SUBJECT_ROOT}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas,
    max_msgs_per_subject: opts.maxEventsPerLogStream ?? DEFAULT_MAX_EVENTS_PER_STREAM,
  });
  const objects = await retryOnce(() => new Objm(js).create(opts.names?.blobs ?? CODE_OBJECT_STORE, { replicas: opts.replicas, storage: StorageType.File }));
  const metadata = new NatsMetadataStore(kv, bucket, jsm, clock);
  await metadata.start();
  const logs = new NatsLogStore(js, jetstream(nc, { timeout: SCAN_CONSUMER_TIMEOUT_MS }), jsm, clock, { stream: logStream, subjectRoot: opts.names?.logSubjects });
  return {
    metadata,
    logs,
    blobs: new NatsBlobStore(objects),
    async close() {
      await metadata.close();
      await logs.flush();
    },
  };
}

/** Creates a stream, or leaves the existing one as it is. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (e) {
    if (!(e instanceof Error) || !/stream not found/i.test(e.message)) throw e;
  }
  await retryOnce(() => jsm.streams.add(config));
}

/** Two nodes creating the same resource at once: the loser's second try binds to the winner's. */
async function retryOnce<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch {
    return f();
  }
}
