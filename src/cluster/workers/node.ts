/**
 * A worker node: the Worker of this machine served over HTTP (WorkerServer), announced in KV
 * `kiln-workers` (WorkerHeartbeat), living out its lease (WorkerLifetime), reporting environment
 * deaths on kiln.env.dead and answering kiln.worker.<id>.drain. Wiring only.
 *
 * The Worker reports environments that die by themselves through its `onEnvironmentDead` option,
 * fixed when it is built: build it with `onEnvironmentDead: (id) => node?.environmentDied(id)`.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Clock, Logger } from "../../base/index.js";
import type { EnvironmentSpec } from "../../worker/index.js";
import { openWorkersBucket } from "./bucket.js";
import { envDeathReporter, listenForDrain } from "./events.js";
import { WorkerHeartbeat } from "./heartbeat.js";
import { WorkerLifetime } from "./lifetime.js";
import { LocalWorker, type HostWorker } from "./local.js";
import { checkWorkerId } from "./record.js";
import { WorkerServer } from "./server.js";

export interface WorkerNodeOptions {
  nc: NatsConnection;
  worker: HostWorker;
  secret: string;
  /** Where the server binds (default 127.0.0.1:0). */
  host?: string;
  port?: number;
  /** The URL other nodes use (default: the bound address). */
  advertiseUrl?: string;
  localize(spec: EnvironmentSpec): Promise<EnvironmentSpec>;
  roles?: string[];
  replicas?: number;
  clock: Clock;
  log: Logger;
  leaseMs?: number;
  drainWindowMs?: number;
  maxBusyWaitMs?: number;
  heartbeatIntervalMs?: number;
  lifetimeTickMs?: number;
  cpu?: () => number;
}

export interface WorkerNode {
  readonly id: string;
  readonly url: string;
  readonly local: LocalWorker;
  readonly server: WorkerServer;
  readonly heartbeat: WorkerHeartbeat;
  readonly lifetime: WorkerLifetime;
  /** Resolves once the worker drained and deregistered (then close() and exit). */
  readonly drained: Promise<void>;
  /** The Worker's onEnvironmentDead: reports the death and frees the environment. */
  environmentDied(environmentId: string): void;
  drain(): void;
  /** Stops serving and heartbeating (deregistering), without draining. */
  close(): Promise<void>;
}

export async function startWorkerNode(o: WorkerNodeOptions): Promise<WorkerNode> {
  const id = checkWorkerId(o.worker.id);
  const local = new LocalWorker(o.worker);
  const kv = await openWorkersBucket(o.nc, o.replicas !== undefined ? { replicas: o.replicas } : {});
  const reportDead = envDeathReporter(o.nc, id);
  const startedAt = o.clock.now();
  let lifetime: WorkerLifetime | undefined;
  const server = new WorkerServer({
    local,
    secret: o.secret,
    clock: o.clock,
    log: o.log,
    localize: o.localize,
    status: () => ({ lease: lifetime?.status() }),
    drain: () => lifetime?.drain(),
  });
  const bound = await server.listen(o.port ?? 0, o.host ?? "127.0.0.1");
  const url = o.advertiseUrl ?? bound;
  const heartbeat = new WorkerHeartbeat({
    kv,
    source: local,
    url,
    roles: o.roles ?? ["worker"],
    clock: o.clock,
    log: o.log,
    startedAt,
    leaseEndsAt: () => lifetime!.leaseEndsAt,
    ...(o.heartbeatIntervalMs !== undefined ? { intervalMs: o.heartbeatIntervalMs } : {}),
    ...(o.cpu ? { cpu: o.cpu } : {}),
  });
  lifetime = new WorkerLifetime({
    local,
    heartbeat,
    reportDead,
    clock: o.clock,
    log: o.log,
    startedAt,
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    ...(o.drainWindowMs !== undefined ? { drainWindowMs: o.drainWindowMs } : {}),
    ...(o.maxBusyWaitMs !== undefined ? { maxBusyWaitMs: o.maxBusyWaitMs } : {}),
    ...(o.lifetimeTickMs !== undefined ? { tickMs: o.lifetimeTickMs } : {}),
  });
  await heartbeat.start();
  const life = lifetime;
  life.start();
  const sub: Subscription = listenForDrain(o.nc, id, () => life.drain(), o.log);
  void life.drained.then(() => sub.unsubscribe());
  return {
    id,
    url,
    local,
    server,
    heartbeat,
    lifetime: life,
    drained: life.drained,
    environmentDied: (environmentId) => {
      if (!local.has(environmentId)) return;
      reportDead(environmentId);
      void local.destroyEnvironment(environmentId).catch((e) => o.log.warn("destroying a dead environment failed", { environmentId, error: String(e) }));
    },
    drain: () => life.drain(),
    close: async () => {
      life.stop();
      sub.unsubscribe();
      await heartbeat.stop({ deregister: true }).catch(() => undefined);
      await server.close();
    },
  };
}
