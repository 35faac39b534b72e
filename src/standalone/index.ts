/**
 * standalone: every component in one process (`kiln server`): SQLite metadata, code packages on
 * disk, one in-process worker with the process sandbox driver. The wiring only; each component
 * keeps its own logic.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, systemClock, type Clock, type ServerConfig } from "../base/index.js";
import { openSqliteStores } from "../store/index.js";
import { CodeStore } from "../artifacts/index.js";
import { Accounts, EventInvokeConfigs, FunctionRegistry, FunctionUrlRegistry, LayerRegistry } from "../control/index.js";
import { ConcurrencyLedger, ScalingLimiter } from "../counting/index.js";
import { AssignmentService } from "../assignment/index.js";
import { Worker, type EnvironmentSpec } from "../worker/index.js";
import { createMicroVmDriver, createProcessDriver, type MicroVmDriver } from "../sandbox/index.js";
import { FrontendInvokeService } from "../frontend/index.js";
import { ApiServer } from "../api/index.js";
import { openSqliteQueue, type AsyncEventQueue } from "../queue/index.js";
import { PollerFleet, defaultAsyncOptions, settingsFromControl, throughFrontend, type AsyncOptions } from "../pollers/index.js";
import { serverSecret } from "./credentials.js";
import { ensureRootAccount, poolSettings } from "./root-account.js";
import { SANDBOX_UID, prepareHost } from "./host.js";
import { snapshotService } from "./snapshots.js";
import { operatorMetrics } from "./metrics.js";

export { loadAsyncOptions, type AsyncOptions } from "../pollers/index.js";
export { RUNTIMES_DIR, SANDBOX_UID, prepareHost, type HostDirs } from "./host.js";
export { ensureRootAccount, poolSettings } from "./root-account.js";

export interface Standalone {
  url: string;
  rootCredentials: { accountId: string; accessKeyId: string; secretAccessKey: string; generated: boolean };
  worker: Worker;
  assignment: AssignmentService<EnvironmentSpec>;
  async: { fleet: PollerFleet; queue: AsyncEventQueue };
  close(): Promise<void>;
}

export interface StandaloneOptions {
  clock?: Clock;
  /** Print generated credentials and the warnings meant for a person (default true). */
  announce?: boolean;
  out?: (line: string) => void;
  /** Poller fleet settings (`kiln server` reads them from KILN_ASYNC_*). */
  async?: Partial<AsyncOptions>;
  /** The clock of the async queue and its pollers (default: `clock`): tests move it to age events. */
  asyncClock?: Clock;
}

/** Lambda's 10 s init limit plus the guest's boot (generous: TCG on a shared 2-core host). */
export const MICROVM_INIT_TIMEOUT_MS = 120_000;

/**
 * The microvm driver, ready: the guest image built or found in its cache (progress on stderr) and
 * the accelerator probed, which is printed (KVM where a test guest boots, TCG otherwise).
 */
export async function startMicroVmDriver(dataDir: string, runtimesDir: string, out: (line: string) => void): Promise<MicroVmDriver> {
  // VM run dirs are per server start (QEMU of an earlier run is gone: it dies with its parent);
  // the per-directory disk images under <dataDir>/microvm/disks are a cache and stay.
  const workDir = join(dataDir, "microvm");
  await rm(join(workDir, "vm"), { recursive: true, force: true });
  const driver = createMicroVmDriver({ runtimesDir, workDir, logger: createLogger("sandbox"), progress: (l) => process.stderr.write(l + "\n") });
  const { image, accel } = await driver.prepare();
  out(`microvm: accelerator ${accel.accel}${accel.reason ? ` (${accel.reason})` : ""}; guest image ${image.key} (${image.built ? `built in ${(image.buildMs / 1000).toFixed(1)} s` : "cached"})`);
  return driver;
}

export async function startStandalone(config: ServerConfig, opts: StandaloneOptions = {}): Promise<Standalone> {
  const clock = opts.clock ?? systemClock;
  const out = opts.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const log = createLogger("kiln");
  const { runtimesDir, sandboxesDir, mergedLayers } = await prepareHost(config, { announce: opts.announce !== false, out });

  const stores = openSqliteStores(join(config.dataDir, "kiln.db"));
  const code = await CodeStore.open(join(config.dataDir, "code"));
  // Stored snapshot files nothing links to any more: a snapshot was removed while a sandbox still
  // held a link to one of its files (blob-area.ts). Swept here, before any snapshot is built.
  for (const hex of await code.blobs.unreferenced()) await code.removeBlob(hex);
  const accounts = new Accounts(stores.metadata, clock);
  const root = await ensureRootAccount(accounts, config, { announce: opts.announce !== false, out });

  const layers = new LayerRegistry({ metadata: stores.metadata, code, clock, region: config.region });
  const driver = config.isolation === "microvm" ? await startMicroVmDriver(config.dataDir, runtimesDir, out) : createProcessDriver({ isolation: config.isolation, runtimesDir, logger: createLogger("sandbox") });
  // The probe ran in startMicroVmDriver; prepare() returns its memoized result.
  const accelerator = driver.name === "microvm" ? (await (driver as MicroVmDriver).prepare()).accel : undefined;
  const snapshots = snapshotService({
    dataDir: config.dataDir,
    runtimesDir,
    driver,
    region: config.region,
    now: () => clock.now(),
    codeDir: (sha) => code.ensureUnpacked(sha),
    layersDir: async (shas) => (shas.length === 0 ? undefined : mergedLayers.merge(await Promise.all(shas.map((sha) => code.ensureUnpacked(sha))))),
    sandboxUid: SANDBOX_UID,
    code,
  });
  const registry = new FunctionRegistry({
    metadata: stores.metadata,
    code,
    clock,
    region: config.region,
    log: createLogger("control"),
    layers,
    accountConcurrency: config.accountConcurrency,
    snapshots: snapshots.creator,
  });
  const functionUrls = new FunctionUrlRegistry({
    metadata: stores.metadata,
    clock,
    region: config.region,
    functions: registry,
    aliasExists: async (accountId, name, alias) => (await registry.aliases.find(accountId, name, alias)) !== undefined,
  });
  registry.onChange((c) => {
    const failed = (e: unknown) => log.error("removing function URLs failed", { function: c.name, error: String(e) });
    if (c.kind === "deleted") void functionUrls.removeFunction(c.accountId, c.name).catch(failed);
    // An alias's URL goes with the alias.
    if (c.kind === "alias") {
      void registry.aliases
        .find(c.accountId, c.name, c.alias)
        .then((a) => (a ? undefined : functionUrls.delete(c.accountId, { name: c.name }, c.alias).catch(() => undefined)))
        .catch(failed);
    }
  });
  let assignment: AssignmentService<EnvironmentSpec> | undefined;
  const worker = new Worker({
    id: "local",
    driver,
    sandboxesDir,
    logs: stores.logs,
    clock,
    log: createLogger("worker"),
    sandboxUid: SANDBOX_UID,
    sandboxGid: SANDBOX_UID,
    // A micro-VM's boot counts against init here; under TCG (software emulation) a boot takes
    // seconds to tens of seconds on a loaded 2-core machine.
    ...(config.isolation === "microvm" ? { initTimeoutMs: MICROVM_INIT_TIMEOUT_MS } : {}),
    pool: poolSettings(config),
    onEnvironmentDead: (id) => {
      const e = assignment?.table.get(id);
      if (e && e.state === "idle") {
        assignment!.table.remove(id);
        void worker.destroyEnvironment(id);
      }
    },
  });
  assignment = new AssignmentService<EnvironmentSpec>({
    clock,
    keepAliveMs: config.keepAliveMs,
    log: createLogger("assignment"),
    fleet: {
      loads: () => [worker.load()],
      createEnvironment: async (_w, id, spec) => {
        // Unpacked trees are not fsync'd file by file; after a reboot the store rebuilds them from the zip.
        const codeDir = await code.ensureUnpacked(spec.codeSha256);
        const layerTrees = await Promise.all((spec.layerSha256s ?? []).map((sha) => code.ensureUnpacked(sha)));
        const layerDirs = layerTrees.length === 0 ? [] : [await mergedLayers.merge(layerTrees)];
        await worker.createEnvironment(id, `${spec.accountId}/${spec.functionName}`, { ...spec, codeDir, layerDirs });
      },
      destroyEnvironment: (_w, id) => worker.destroyEnvironment(id),
    },
  });
  assignment.start();
  worker.startPool();
  const ledger = new ConcurrencyLedger(() => config.accountConcurrency);
  const asyncClock = opts.asyncClock ?? clock;
  const queue = await openSqliteQueue(join(config.dataDir, "async.db"), { releaseLeasesAt: asyncClock.now() });
  if (queue.releasedAtOpen > 0) log.info("async events that were running when Kiln stopped will run again", { events: queue.releasedAtOpen });
  const eventInvokeConfigs = new EventInvokeConfigs({ metadata: stores.metadata, registry, clock, region: config.region });
  let fleet: PollerFleet | undefined;
  const frontend = new FrontendInvokeService({
    registry,
    ledger,
    assignment,
    workers: { invoke: (_w, id, inv) => worker.invoke(id, inv) },
    codeDir: (sha) => code.dirFor(sha),
    snapshotBlob: (id) => snapshots.service.blobPath(id),
    region: config.region,
    clock,
    log: createLogger("frontend"),
    scaling: new ScalingLimiter(() => clock.monotonic()),
    events: { accept: (e) => fleet!.accept(e) },
  });
  fleet = new PollerFleet({
    queue,
    invoke: throughFrontend(frontend),
    settings: settingsFromControl(eventInvokeConfigs),
    clock: asyncClock,
    log: createLogger("pollers"),
    region: config.region,
    options: { ...defaultAsyncOptions(), ...opts.async },
  });
  let ready = false;
  const api = new ApiServer({
    accounts,
    registry,
    layers,
    functionUrls,
    frontend,
    eventInvokeConfigs,
    asyncStats: (accountId, name) => fleet!.stats(accountId, name),
    logs: stores.logs,
    region: config.region,
    accountConcurrency: config.accountConcurrency,
    codeLinkSecret: await serverSecret(config.dataDir),
    zipPath: (sha) => code.zipPath(sha),
    log: createLogger("api"),
    ready: () => ready,
    poolStats: () => ({ enabled: worker.poolStats() !== undefined, environments: worker.environmentCount, ...worker.poolStats() }),
    metrics: () => operatorMetrics({ driver: driver.name, ...(accelerator ? { accelerator } : {}), environments: worker.environmentCount, ...(worker.poolStats() ? { pool: worker.poolStats() } : {}) }),
  });
  await registry.recover();
  await frontend.recover();
  await fleet.start();
  const url = await api.listen(config.port, config.host);
  ready = true;
  let closing: Promise<void> | undefined;
  return {
    url,
    rootCredentials: { accountId: root.account.accountId, accessKeyId: root.account.accessKeyId, secretAccessKey: root.account.secretAccessKey, generated: root.generated },
    worker,
    assignment,
    async: { fleet, queue },
    close: () =>
      (closing ??= (async () => {
        ready = false;
        await api.close();
        await fleet!.close(5000);
        await assignment!.close();
        await worker.close();
        await registry.settled();
        await queue.close();
        await stores.close();
      })()),
  };
}
