/**
 * standalone: every component in one process (`kiln server`): SQLite metadata, code packages on
 * disk, one in-process worker with the process sandbox driver. The wiring only; each component
 * keeps its own logic.
 */
import { chmod, cp, mkdir, rm, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { ConfigError, createLogger, systemClock, type Clock, type ServerConfig } from "../base/index.js";
import { openSqliteStores } from "../store/index.js";
import { CodeStore, MergedLayers } from "../artifacts/index.js";
import { Accounts, DEFAULT_MEMORY_MB, EventInvokeConfigs, FunctionRegistry, FunctionUrlRegistry, LayerRegistry } from "../control/index.js";
import { ConcurrencyLedger, ScalingLimiter } from "../counting/index.js";
import { AssignmentService } from "../assignment/index.js";
import { DEFAULT_POOL_BURST_MS, DEFAULT_POOL_RESERVE_MB, DEFAULT_POOL_WINDOW_MS, Worker, type EnvironmentSpec } from "../worker/index.js";
import { DEFAULT_SANDBOX_UID, createMicroVmDriver, createProcessDriver, probeBubblewrap, type MicroVmDriver } from "../sandbox/index.js";
import { FrontendInvokeService } from "../frontend/index.js";
import { ApiServer } from "../api/index.js";
import { openSqliteQueue, type AsyncEventQueue } from "../queue/index.js";
import { PollerFleet, defaultAsyncOptions, settingsFromControl, throughFrontend, type AsyncOptions } from "../pollers/index.js";
import { serverSecret, writeCredentialFiles } from "./credentials.js";
import { snapshotService } from "./snapshots.js";

export { loadAsyncOptions, type AsyncOptions } from "../pollers/index.js";

/** The host uid sandboxes run as (the process driver's default: Lambda's sbx_user1051 is uid 993). */
const SANDBOX_UID = DEFAULT_SANDBOX_UID;

/**
 * Sandboxes run as an unprivileged uid, and bubblewrap resolves the paths it binds (code, /tmp)
 * as that uid: every ancestor of the data dir must be searchable by it.
 */
async function checkReachable(dataDir: string, uid: number): Promise<void> {
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const info = await stat(dir);
    const searchable = info.uid === uid ? (info.mode & 0o100) !== 0 : (info.mode & 0o001) !== 0;
    if (!searchable) {
      throw new ConfigError(
        `Sandboxes (uid ${uid}) cannot reach the data dir ${dataDir}: ${dir} is not searchable by other users (mode ${(info.mode & 0o777).toString(8)}). ` +
          `Choose a data dir elsewhere with KILN_DATA_DIR or --data-dir, or allow traversal with \`chmod o+x ${dir}\`.`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

/** Where the in-sandbox runtimes live: src/runtimes of this checkout (plain JS and Python, not compiled). */
export const RUNTIMES_DIR = fileURLToPath(new URL("../../../src/runtimes", import.meta.url));

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
async function startMicroVmDriver(dataDir: string, runtimesDir: string, out: (line: string) => void): Promise<MicroVmDriver> {
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
  if (config.isolation === "process") {
    const probe = await probeBubblewrap();
    if (!probe.ok) {
      throw new ConfigError(
        `bubblewrap cannot jail sandboxes here (${probe.reason ?? "bwrap missing"}). Install it with \`sudo apt-get install -y bubblewrap socat\`, ` +
          "or start with `--isolation none` to run functions WITHOUT any isolation (trusted code only).",
      );
    }
  } else if (config.isolation === "none" && opts.announce !== false) {
    out("WARNING: --isolation none: functions run as plain processes with the server's rights. Only run code you trust.");
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o711 });
  if (config.isolation === "process") await checkReachable(config.dataDir, SANDBOX_UID);
  // Sandboxes run as an unprivileged uid: it may traverse the data dir (never list or read it) to
  // reach what is bound into a jail. Secrets in here are 0600.
  await chmod(config.dataDir, 0o711);
  const runtimesDir = join(config.dataDir, "runtimes");
  await rm(runtimesDir, { recursive: true, force: true });
  await cp(RUNTIMES_DIR, runtimesDir, { recursive: true, filter: (src) => !src.endsWith(".json") && !src.includes("__pycache__") });
  const sandboxesDir = join(config.dataDir, "sandboxes");
  await rm(sandboxesDir, { recursive: true, force: true });
  await mkdir(sandboxesDir, { recursive: true, mode: 0o711 });
  // Merged layer trees are caches of hard links (see artifacts/merged-layers.ts): rebuilt on demand.
  const mergedLayersDir = join(config.dataDir, "layers-merged");
  await rm(mergedLayersDir, { recursive: true, force: true });
  await mkdir(mergedLayersDir, { recursive: true, mode: 0o711 });
  const mergedLayers = new MergedLayers(mergedLayersDir);

  const stores = openSqliteStores(join(config.dataDir, "kiln.db"));
  const code = await CodeStore.open(join(config.dataDir, "code"));
  const accounts = new Accounts(stores.metadata, clock);
  const keys = config.rootAccessKeyId && config.rootSecretAccessKey ? { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey } : undefined;
  const root = await accounts.ensureRoot(keys);
  await writeCredentialFiles(config.dataDir, root.account, config.region);
  if (root.generated && opts.announce !== false) {
    out(`Generated the root account's key pair (shown once; also in ${join(config.dataDir, "credentials")}, profile kiln):`);
    out(`  AWS_ACCESS_KEY_ID=${root.account.accessKeyId}`);
    out(`  AWS_SECRET_ACCESS_KEY=${root.account.secretAccessKey}`);
  }

  const layers = new LayerRegistry({ metadata: stores.metadata, code, clock, region: config.region });
  const driver = config.isolation === "microvm" ? await startMicroVmDriver(config.dataDir, runtimesDir, out) : createProcessDriver({ isolation: config.isolation, runtimesDir, logger: createLogger("sandbox") });
  const snapshots = snapshotService({
    dataDir: config.dataDir,
    runtimesDir,
    driver,
    region: config.region,
    now: () => clock.now(),
    codeDir: (sha) => code.ensureUnpacked(sha),
    layersDir: async (shas) => (shas.length === 0 ? undefined : mergedLayers.merge(await Promise.all(shas.map((sha) => code.ensureUnpacked(sha))))),
    sandboxUid: SANDBOX_UID,
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
    pool: {
      min: config.poolMin,
      max: config.poolMax,
      windowMs: DEFAULT_POOL_WINDOW_MS,
      burstMs: DEFAULT_POOL_BURST_MS,
      reserveMB: DEFAULT_POOL_RESERVE_MB,
      defaultMemoryMB: DEFAULT_MEMORY_MB,
    },
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
