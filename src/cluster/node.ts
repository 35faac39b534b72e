/**
 * A cluster node (`kiln node --roles ... --nats ...`): the same components as standalone Kiln,
 * wired to NATS JetStream instead of SQLite and to each other across machines. The wiring only.
 *
 * Roles:
 * - frontend: the Lambda API (control and invoke) on --port; invokes acquire environments from
 *   the assignment partition leaders and send the payload straight to the worker over HTTP;
 * - worker: hosts sandboxes, serves them to frontends on --worker-port, heartbeats its load,
 *   drains at the end of its lease;
 * - assignment: competes for the leadership of every assignment partition; leaders keep the
 *   environment tables, followers replay their journals;
 * - pollers: runs asynchronous invocations from the JetStream queue;
 * - control: finishes control-plane work left over by nodes that died (Pending functions); with
 *   KILN_CAPACITY, competes to run the capacity manager (one node at a time), which starts and
 *   stops worker nodes (local: child processes of that node) as demand moves.
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createLogger, systemClock, type Clock } from "../base/index.js";
import { openNatsStores, type NatsStores } from "../store/index.js";
import { CodeStore } from "../artifacts/index.js";
import { Accounts, EventInvokeConfigs, FunctionRegistry, FunctionUrlRegistry, LayerRegistry } from "../control/index.js";
import { ConcurrencyLedger, ScalingLimiter } from "../counting/index.js";
import { laneOf, openNatsQueue, type AsyncEventQueue } from "../queue/index.js";
import { Worker, type EnvironmentSpec } from "../worker/index.js";
import { createProcessDriver } from "../sandbox/index.js";
import { FrontendInvokeService } from "../frontend/index.js";
import { ApiServer } from "../api/index.js";
import { PollerFleet, defaultAsyncOptions, settingsFromControl, throughFrontend, type AsyncOptions } from "../pollers/index.js";
import { MICROVM_INIT_TIMEOUT_MS, SANDBOX_UID, ensureRootAccount, poolSettings, prepareHost, startMicroVmDriver } from "../standalone/index.js";
import type { NodeConfig } from "./config.js";
import { shareChanges } from "./changes.js";
import { NodeRegistry } from "./nodes.js";
import { RemoteAssignment, startAssignmentNode } from "./assignment/index.js";
import { RemoteWorkers, WorkerDirectory, openWorkersBucket, startWorkerNode, type WorkerNode } from "./workers/index.js";
import { startCapacityControl } from "./capacity/index.js";
import { localWorkerProvider } from "./local-workers.js";

/** How long a frontend trusts a cached resolution plan (a missed change event ages out). */
const PLAN_TTL_MS = 5_000;

export interface ClusterNode {
  nodeId: string;
  /** The Lambda API (frontend role). */
  url?: string;
  /** Where other nodes reach this worker (worker role). */
  workerUrl?: string;
  /** Worker role: resolves once the worker has drained (lease over, or `kiln worker drain`). */
  drained?: Promise<void>;
  close(): Promise<void>;
}

export interface NodeOptions {
  clock?: Clock;
  announce?: boolean;
  out?: (line: string) => void;
  async?: Partial<AsyncOptions>;
}

export async function connectNats(config: Pick<NodeConfig, "nats" | "nodeId">): Promise<NatsConnection> {
  return connect({ servers: config.nats, name: `kiln-${config.nodeId}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000 });
}

export async function startNode(config: NodeConfig, opts: NodeOptions = {}): Promise<ClusterNode> {
  const clock = opts.clock ?? systemClock;
  const out = opts.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const log = createLogger("node");
  const has = (r: string) => config.roles.has(r as never);
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch((e: unknown) => log.warn("closing failed", { error: String(e) }));
  };

  const nc = await connectNats(config);
  closers.push(() => nc.drain().catch(() => nc.close()));
  try {
    const host = await prepareHost(config, { announce: opts.announce !== false && has("worker"), out });
    const stores: NatsStores = await openNatsStores(nc, { replicas: config.replicas, clock });
    closers.push(() => stores.close());
    const code = await CodeStore.open(join(config.dataDir, "code"), { mirror: stores.blobs });
    const secret = config.clusterSecret;
    const directory = new WorkerDirectory({ kv: await openWorkersBucket(nc, { replicas: config.replicas }), clock, log: createLogger("directory") });
    await directory.start();
    closers.push(() => directory.stop());
    const workers = new RemoteWorkers({ directory, secret, clock });
    closers.push(() => workers.close());
    const nodes = new NodeRegistry({ nc, nodeId: config.nodeId, roles: [...config.roles], clock, replicas: config.replicas });

    const result: ClusterNode = { nodeId: config.nodeId, close };

    // worker: sandboxes on this machine, served to the other nodes.
    if (has("worker")) {
      const driver =
        config.isolation === "microvm"
          ? await startMicroVmDriver(config.dataDir, host.runtimesDir, out)
          : createProcessDriver({ isolation: config.isolation, runtimesDir: host.runtimesDir, logger: createLogger("sandbox") });
      let workerNode: WorkerNode | undefined;
      const worker = new Worker({
        id: config.nodeId,
        driver,
        sandboxesDir: host.sandboxesDir,
        logs: stores.logs,
        clock,
        log: createLogger("worker"),
        sandboxUid: SANDBOX_UID,
        sandboxGid: SANDBOX_UID,
        ...(config.workerMemoryMB !== undefined ? { capacityMB: config.workerMemoryMB } : {}),
        ...(config.isolation === "microvm" ? { initTimeoutMs: MICROVM_INIT_TIMEOUT_MS } : {}),
        pool: poolSettings(config),
        onEnvironmentDead: (id) => workerNode?.environmentDied(id),
      });
      worker.startPool();
      // Specs carry the frontend's view of paths: code, layers (and snapshots) are found again here.
      const localize = async (spec: EnvironmentSpec): Promise<EnvironmentSpec> => {
        const codeDir = await code.ensureUnpacked(spec.codeSha256);
        const layerTrees = await Promise.all((spec.layerSha256s ?? []).map((sha) => code.ensureUnpacked(sha)));
        const layerDirs = layerTrees.length === 0 ? [] : [await host.mergedLayers.merge(layerTrees)];
        const { snapshot: _notAcrossMachines, ...rest } = spec;
        return { ...rest, codeDir, layerDirs };
      };
      workerNode = await startWorkerNode({
        nc,
        worker,
        secret,
        localize,
        host: config.workerHost,
        port: config.workerPort,
        ...(config.advertiseHost !== config.workerHost && config.workerPort !== 0 ? { advertiseUrl: `http://${config.advertiseHost}:${config.workerPort}` } : {}),
        roles: [...config.roles],
        replicas: config.replicas,
        clock,
        log: createLogger("worker-node"),
        leaseMs: config.workerLeaseMs,
      });
      const node = workerNode;
      closers.push(async () => {
        await node.close();
        await worker.close();
      });
      result.workerUrl = node.url;
      result.drained = node.drained;
    }

    // assignment: leaders of partitions keep the environment tables.
    if (has("assignment")) {
      const node = await startAssignmentNode<EnvironmentSpec>({
        nc,
        nodeId: config.nodeId,
        partitions: config.partitions,
        replicas: config.replicas,
        fleet: workers,
        clock,
        keepAliveMs: config.keepAliveMs,
        log: createLogger("assignment"),
      });
      directory.onLeave((workerId) => node.forgetWorker(workerId));
      closers.push(() => node.close());
    }

    // frontend and pollers: the invoke path, against the partition leaders and remote workers.
    if (has("frontend") || has("pollers") || has("control")) {
      const queue: AsyncEventQueue = await openNatsQueue(nc, { replicas: config.replicas, clock });
      closers.push(() => queue.close());
      const accounts = new Accounts(stores.metadata, clock);
      await ensureRootAccount(accounts, config, { announce: opts.announce !== false, out });
      const layers = new LayerRegistry({ metadata: stores.metadata, code, clock, region: config.region });
      // SnapStart snapshots are built in a sandbox on the node that publishes the version: not yet
      // across machines, so cluster versions report SnapStart as unavailable.
      const registry = new FunctionRegistry({
        metadata: stores.metadata,
        code,
        clock,
        region: config.region,
        log: createLogger("control"),
        layers,
        accountConcurrency: config.accountConcurrency,
      });
      closers.push(() => registry.settled());
      closers.push(shareChanges(nc, config.nodeId, registry));
      const functionUrls = new FunctionUrlRegistry({
        metadata: stores.metadata,
        clock,
        region: config.region,
        functions: registry,
        aliasExists: async (accountId, name, alias) => (await registry.aliases.find(accountId, name, alias)) !== undefined,
      });
      const assignment = new RemoteAssignment<EnvironmentSpec>({ nc, partitions: config.partitions, log: createLogger("assignment-client") });
      closers.push(() => assignment.close());
      const ledger = new ConcurrencyLedger(() => config.accountConcurrency);
      const eventInvokeConfigs = new EventInvokeConfigs({ metadata: stores.metadata, registry, clock, region: config.region });
      const events = { accept: (e: { requestId: string; accountId: string; functionName: string; qualifier?: string; payload: Buffer }) => enqueue(e) };
      const frontend = new FrontendInvokeService({
        registry,
        ledger,
        assignment,
        workers,
        codeDir: (sha) => code.dirFor(sha),
        region: config.region,
        clock,
        log: createLogger("frontend"),
        scaling: new ScalingLimiter(() => clock.monotonic()),
        events,
        planTtlMs: PLAN_TTL_MS,
      });
      let fleet: PollerFleet | undefined;
      const enqueue = async (e: { requestId: string; accountId: string; functionName: string; qualifier?: string; payload: Buffer }) => {
        if (fleet) return fleet.accept(e);
        const target = { accountId: e.accountId, functionName: e.functionName, ...(e.qualifier !== undefined ? { qualifier: e.qualifier } : {}) };
        await queue.enqueue([{ id: e.requestId, target, payload: e.payload, receivedAt: clock.now(), source: "invoke" }]);
      };
      if (has("pollers")) {
        fleet = new PollerFleet({
          queue,
          invoke: throughFrontend(frontend),
          settings: settingsFromControl(eventInvokeConfigs),
          clock,
          log: createLogger("pollers"),
          region: config.region,
          options: { ...defaultAsyncOptions(), ...opts.async },
        });
        closers.push(() => fleet!.close(5000));
      }
      if (has("control")) await registry.recover();
      await frontend.recover();
      if (fleet) await fleet.start();
      if (has("frontend")) {
        let ready = false;
        const api = new ApiServer({
          accounts,
          registry,
          layers,
          functionUrls,
          frontend,
          eventInvokeConfigs,
          asyncStats: async (accountId, name) => {
            if (fleet) return fleet.stats(accountId, name);
            const now = clock.now();
            return { queue: await queue.stats(laneOf({ accountId, functionName: name }), now), running: 0, now };
          },
          logs: stores.logs,
          region: config.region,
          accountConcurrency: config.accountConcurrency,
          // Every frontend must verify the code links any other frontend signed.
          codeLinkSecret: createHmac("sha256", secret).update("kiln code links").digest(),
          zipPath: (sha) => code.zipPath(sha),
          ensureZip: (sha) => code.ensureLocal(sha),
          log: createLogger("api"),
          ready: () => ready,
        });
        result.url = await api.listen(config.port, config.host);
        ready = true;
        closers.push(async () => {
          ready = false;
          await api.close();
        });
      }
    }
    // control + KILN_CAPACITY: the capacity manager, on the one control node elected for it.
    if (has("control") && config.capacity) {
      const capacity = config.capacity;
      const capacityLog = createLogger("capacity");
      const control = await startCapacityControl({
        nc,
        nodeId: config.nodeId,
        replicas: config.replicas,
        directory,
        provider: localWorkerProvider(config, capacity, nc, capacityLog),
        policy: {
          minWorkers: capacity.minWorkers,
          maxWorkers: capacity.maxWorkers,
          ...(capacity.coolDownMs !== undefined ? { coolDownMs: capacity.coolDownMs } : {}),
          ...(capacity.maxStep !== undefined ? { maxStep: capacity.maxStep } : {}),
        },
        intervalMs: capacity.intervalMs,
        clock,
        log: capacityLog,
      });
      closers.push(() => control.close());
    }
    await nodes.start({ ...(result.url ? { url: result.url } : {}), ...(result.workerUrl ? { workerUrl: result.workerUrl } : {}) });
    closers.push(() => nodes.stop());
    log.info("node started", { nodeId: config.nodeId, roles: [...config.roles].join(","), url: result.url, workerUrl: result.workerUrl });
    return result;
  } catch (e) {
    await close();
    throw e;
  }
}
