/**
 * cluster/workers: worker nodes across machines. The worker node server (WorkerServer) and its
 * client (RemoteWorkers: assignment's WorkerFleet and the frontend's InvokeTarget), heartbeats and
 * the directory of live workers (KV `kiln-workers`), the lease lifetime and drain, and the
 * composition of one node (startWorkerNode). Node auth lives in ../auth.ts.
 * Imports worker, placement (types) and base; must not import assignment, frontend or control.
 */
export { EnvironmentGoneError, WorkerDrainingError, WorkerRequestError, WorkerUnreachableError } from "./errors.js";
export { WORKERS_BUCKET, loadOf, parseWorkerRecord, checkWorkerId, type WorkerRecord, type WorkerState, type ClusterWorkerLoad } from "./record.js";
export { LocalWorker, type HostWorker, type LocalWorkerSummary } from "./local.js";
export { WorkerServer, type WorkerServerOptions } from "./server.js";
export { RemoteWorkers, type RemoteWorkersOptions, type WorkerLocator } from "./client.js";
export { MAX_NODE_BODY_BYTES } from "./wire.js";
export { openWorkersBucket } from "./bucket.js";
export { WorkerHeartbeat, DEFAULT_HEARTBEAT_INTERVAL_MS, hostCpu, type WorkerHeartbeatOptions } from "./heartbeat.js";
export { WorkerDirectory, DEFAULT_DIRECTORY_TTL_MS, expiredWorkers, type WorkerDirectoryOptions } from "./directory.js";
export { DEFAULT_LEASE_MS, DEFAULT_DRAIN_WINDOW_MS, MAX_FUNCTION_TIMEOUT_MS, lifetimeStep, type LifetimeView, type LifetimeAction, type LifetimePhase, type DrainReason } from "./lease.js";
export { WorkerLifetime, type WorkerLifetimeOptions, type LifetimeStatus } from "./lifetime.js";
export { ENV_DEAD_SUBJECT, drainSubject, envDeathReporter, listenForDrain, type EnvironmentDeath } from "./events.js";
export { startWorkerNode, type WorkerNode, type WorkerNodeOptions } from "./node.js";
