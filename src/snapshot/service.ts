/**
 * SnapStart snapshots for process sandboxes: a V8 startup snapshot of a published nodejs20.x
 * version's initialized handler module, restored by every cold start of that version instead of
 * running init.
 *
 * create() (at PublishVersion, off the request path, one build at a time):
 *   1. runtime check: Python and provided.* get OptimizationStatus Off with the reason (plan.ts);
 *   2. bundle the function with esbuild (bundle.ts); native addons or run-time module loads -> Off;
 *   3. build in a jail as the function would run (its environment with
 *      AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, its memory size for V8's heap flag, a roomier
 *      memory cgroup for serializing): `node --snapshot-blob /tmp/snapshot.blob --build-snapshot`;
 *      init throws, a hook fails, init never ends (timeout) or V8 cannot serialize -> Off;
 *   4. trial restore in a second jail (stops right after connecting to the Runtime API) -> Off if
 *      the blob does not load;
 *   5. store the blob (root-owned, 0644) in the code store and link it as `<dir>/<snapshotId>.blob`
 *      (bound read-only into restores), with its digest in `<dir>/<snapshotId>.json` (files.ts).
 * Every outcome is a result, never an exception the caller must map: a version whose snapshot
 * failed still publishes and runs, with the reason in its configuration. Restores are the worker's:
 * `node --snapshot-blob` in a fresh jail, or exec()ed by a pre-initialized launcher jail (pool kind
 * "snapstart").
 *
 * Known caveats: the snapshot holds what init computed from the environment and the clock at
 * PublishVersion (as on Lambda: use after-restore hooks for what must be fresh); stack traces name
 * the bundle; Node 20 cannot snapshot a function that loads node:http (or https clients) during init.
 */
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { shortId, type Logger } from "../base/index.js";
import { SNAPSHOT_BLOB_NAME, type RuntimeName, type SandboxDriver } from "../sandbox/index.js";
import { isSnapshotFiles, releaseSnapshotFiles, storeSnapshotFiles, type SnapshotFileStore } from "./files.js";
import { bundleForSnapshot } from "./v8/bundle.js";
import { runToEnd } from "./v8/jail-run.js";
import { buildFailureReason, handlerCandidates, unsupportedRuntimeReason, type SnapStartReasonCode } from "./v8/plan.js";

export const DEFAULT_BUILD_TIMEOUT_MS = 120_000;
export const DEFAULT_RESTORE_CHECK_TIMEOUT_MS = 30_000;
/** Marks the trial restore: the snapshot's main stops once it reached the Runtime API. */
export const SNAPSHOT_CHECK_VARIABLE = "_KILN_SNAPSHOT_CHECK";

export interface SnapshotRequest {
  accountId: string;
  functionName: string;
  version: string;
  runtime: RuntimeName;
  handler: string;
  codeSha256: string;
  layerSha256s: string[];
  memoryMB: number;
  /** The version's whole environment as a cold start gets it, with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start. */
  environment: Record<string, string>;
}

export type SnapshotResult =
  | { status: "On"; snapshotId: string; blobBytes: number; buildMs: number }
  | { status: "Off"; reasonCode: SnapStartReasonCode; reason: string };

export interface SnapshotServiceOptions {
  /** Where blobs are linked (and build scratch space); every ancestor traversable by the sandbox uid. */
  dir: string;
  /** Where the blobs' bytes are stored (the code store's blob area), on the same file system as `dir`. */
  files: SnapshotFileStore;
  /** Host copy of src/runtimes (holds nodejs/snapshot-main.mjs). */
  runtimesDir: string;
  driver: SandboxDriver;
  /** The unpacked code of a package (the code store). */
  codeDir(codeSha256: string): Promise<string>;
  /** The layers merged into one tree, or undefined without layers. */
  layersDir(layerSha256s: string[]): Promise<string | undefined>;
  log: Logger;
  sandboxUid?: number;
  sandboxGid?: number;
  buildTimeoutMs?: number;
  restoreCheckTimeoutMs?: number;
}

export class SnapshotService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SnapshotServiceOptions) {}

  /** Host path of a stored snapshot's blob. */
  blobPath(snapshotId: string): string {
    if (!/^[0-9a-f]{32}$/.test(snapshotId)) throw new TypeError(`not a snapshot id: ${snapshotId}`);
    return join(this.opts.dir, `${snapshotId}.blob`);
  }

  /** Drops a snapshot: its link, its record, and the stored blob once nothing else links to it. */
  async remove(snapshotId: string): Promise<void> {
    const record = join(this.opts.dir, `${snapshotId}.json`);
    const files = await readFile(record, "utf8").then((t) => JSON.parse(t) as unknown, () => undefined);
    if (isSnapshotFiles(files)) await releaseSnapshotFiles(this.opts.files, files, this.opts.dir);
    await rm(this.blobPath(snapshotId), { force: true }); // a blob stored before the code store kept them
    await rm(record, { force: true });
  }

  /** Builds one version's snapshot (builds run one at a time). */
  create(req: SnapshotRequest): Promise<SnapshotResult> {
    const run = this.queue.then(() => this.build(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async build(req: SnapshotRequest): Promise<SnapshotResult> {
    const started = performance.now();
    const unsupported = unsupportedRuntimeReason(req.runtime);
    if (unsupported) return { status: "Off", reasonCode: "UnsupportedRuntime", reason: unsupported };
    const [codeDir, layersDir] = await Promise.all([this.opts.codeDir(req.codeSha256), this.opts.layersDir(req.layerSha256s)]);
    const candidates = handlerCandidates(req.handler);
    let found: string | undefined;
    for (const candidate of candidates) {
      if (await isFile(join(codeDir, candidate))) {
        found = candidate;
        break;
      }
    }
    if (found === undefined) {
      return { status: "Off", reasonCode: "InitFailed", reason: `the handler ${req.handler} names no module file in the package (tried ${candidates.join(", ") || "nothing: malformed name"})` };
    }
    const bundle = await bundleForSnapshot({ codeDir, layersDir, handlerFile: found, handler: req.handler, snapshotMain: join(this.opts.runtimesDir, "nodejs", "snapshot-main.mjs") });
    if (!bundle.ok) return { status: "Off", reasonCode: bundle.code, reason: bundle.reason };

    const id = shortId();
    const work = join(this.opts.dir, "builds", id);
    const owner = this.owner();
    await mkdir(join(work, "tmp"), { recursive: true, mode: 0o711 });
    await chmod(work, 0o711);
    await chmod(join(work, "tmp"), 0o700);
    if (owner) await chown(join(work, "tmp"), owner.uid, owner.gid);
    try {
      const entry = join(work, "entry.cjs");
      await writeFile(entry, bundle.code, { mode: 0o644 });
      const base = { runtime: req.runtime, codeDir, layerDirs: layersDir ? [layersDir] : [], tmpDir: join(work, "tmp"), memoryMB: req.memoryMB };
      const buildTimeout = this.opts.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
      const built = await runToEnd(
        this.opts.driver,
        { ...base, id: `snap-${id}`, env: req.environment, memoryLimitMB: Math.max(req.memoryMB * 2, req.memoryMB + 512), startup: { kind: "snapshot-build", entry } },
        join(work, "rapi-build"),
        buildTimeout,
        owner,
      );
      const blob = join(work, "tmp", SNAPSHOT_BLOB_NAME);
      if (built.timedOut || built.exit?.code !== 0 || !(await isFile(blob))) {
        const why = buildFailureReason(built.output, built.exit?.code ?? null, built.exit?.signal ?? null, built.timedOut, buildTimeout);
        this.opts.log.info("SnapStart snapshot not taken", { function: req.functionName, version: req.version, reason: why.reason });
        return { status: "Off", reasonCode: why.code, reason: why.reason };
      }
      const checked = await runToEnd(
        this.opts.driver,
        { ...base, id: `snapchk-${id}`, env: { ...req.environment, [SNAPSHOT_CHECK_VARIABLE]: "1" }, startup: { kind: "snapshot-restore", blob } },
        join(work, "rapi-check"),
        this.opts.restoreCheckTimeoutMs ?? DEFAULT_RESTORE_CHECK_TIMEOUT_MS,
        owner,
      );
      if (checked.timedOut || checked.exit?.code !== 0) {
        const tail = checked.output.trim().split("\n").slice(-4).join(" | ").slice(-400);
        return { status: "Off", reasonCode: "RestoreFailed", reason: `the snapshot was written but does not restore${checked.timedOut ? " (timed out)" : ` (exit ${checked.exit?.code ?? checked.exit?.signal})`}${tail ? `: ${tail}` : ""}` };
      }
      await mkdir(this.opts.dir, { recursive: true, mode: 0o711 });
      const snapshotId = shortId();
      // The link shares the stored inode: owner and mode are set before it goes in.
      if (process.getuid?.() === 0) await chown(blob, 0, 0);
      await chmod(blob, 0o644);
      const files = await storeSnapshotFiles(this.opts.files, { [`${snapshotId}.blob`]: blob }, this.opts.dir);
      await writeFile(join(this.opts.dir, `${snapshotId}.json`), JSON.stringify(files) + "\n");
      const blobBytes = (await stat(this.blobPath(snapshotId))).size;
      const buildMs = Math.round(performance.now() - started);
      this.opts.log.info("SnapStart snapshot taken", { function: req.functionName, version: req.version, snapshotId, blobBytes, buildMs });
      return { status: "On", snapshotId, blobBytes, buildMs };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private owner(): { uid: number; gid: number } | undefined {
    const uid = this.opts.sandboxUid;
    if (uid === undefined || process.getuid?.() !== 0) return undefined;
    return { uid, gid: this.opts.sandboxGid ?? uid };
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

