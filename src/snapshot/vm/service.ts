/**
 * SnapStart for micro-VM sandboxes: at PublishVersion, boot the version in a micro-VM whose RAM is
 * a file, run init, and snapshot the whole VM when the runtime first asks for an event (GET
 * /invocation/next: init is done). Cold starts of the version then restore clones of it (the
 * microvm driver's create() with `startup: snapshot-restore`, blob = the snapshot's manifest).
 * Any runtime works (the whole VM is saved): nodejs, python and provided.
 *
 *   <dir>/<snapshotId>/memory          guest RAM (the clones' private mapping)
 *   <dir>/<snapshotId>/state           device state (~75 KB)
 *   <dir>/<snapshotId>/tmp.ext4        /tmp as init left it (sparse)
 *   <dir>/<snapshotId>/snapshot.json   the manifest (blobPath), with `files`: the digest of each
 *   <dir>/<snapshotId>/pages.log       the page-access log, recorded by the first clone
 *
 * memory, state and tmp.ext4 are stored in the code store's blob area and linked here (files.ts):
 * clones map the stored memory file itself, private and unwritten, as before. The page-access log
 * is not stored there: it is written after the snapshot (by the first restore) and only a hint.
 *
 * Outcomes are results, never exceptions: init failing or not finishing gives Off with the reason.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { join } from "node:path";
import { shortId, type Logger } from "../../base/index.js";
import { buildVmSnapshot, type MicroVmDriver, type RuntimeName } from "../../sandbox/index.js";
import { isSnapshotFiles, releaseSnapshotFiles, storeSnapshotFiles, type SnapshotFileStore } from "../files.js";
import type { SnapshotRequest, SnapshotResult } from "../service.js";

export const DEFAULT_VM_BUILD_TIMEOUT_MS = 180_000;

export interface VmSnapshotServiceOptions {
  dir: string;
  /** Where the snapshot files' bytes are stored (the code store's blob area), on the same file system as `dir`. */
  files: SnapshotFileStore;
  driver: MicroVmDriver;
  codeDir(codeSha256: string): Promise<string>;
  layersDir(layerSha256s: string[]): Promise<string | undefined>;
  log: Logger;
  buildTimeoutMs?: number;
}

export class VmSnapshotService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: VmSnapshotServiceOptions) {}

  /** The manifest a restore is given as its `blob`. */
  blobPath(snapshotId: string): string {
    if (!/^[0-9a-f]{32}$/.test(snapshotId)) throw new TypeError(`not a snapshot id: ${snapshotId}`);
    return join(this.opts.dir, snapshotId, "snapshot.json");
  }

  /** Drops a snapshot: its directory, and each stored file once nothing else links to it. */
  async remove(snapshotId: string): Promise<void> {
    const dir = join(this.opts.dir, snapshotId);
    const manifest = await readFile(this.blobPath(snapshotId), "utf8").then((t) => JSON.parse(t) as { files?: unknown }, () => undefined);
    if (isSnapshotFiles(manifest?.files)) await releaseSnapshotFiles(this.opts.files, manifest.files, dir);
    await rm(dir, { recursive: true, force: true });
  }

  create(req: SnapshotRequest): Promise<SnapshotResult> {
    const run = this.queue.then(() => this.build(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async build(req: SnapshotRequest): Promise<SnapshotResult> {
    const started = performance.now();
    const id = shortId();
    const work = join(this.opts.dir, "builds", id);
    await mkdir(work, { recursive: true, mode: 0o711 });
    const socket = join(work, "runtime.sock");
    const watch = await initWatcher(socket);
    const output: Buffer[] = [];
    let exited: string | undefined;
    const timeoutMs = this.opts.buildTimeoutMs ?? DEFAULT_VM_BUILD_TIMEOUT_MS;
    try {
      const [codeDir, layersDir] = await Promise.all([this.opts.codeDir(req.codeSha256), this.opts.layersDir(req.layerSha256s)]);
      const spec = { id: `vmsnap-${id}`, runtime: req.runtime as RuntimeName, codeDir, layerDirs: layersDir ? [layersDir] : [], tmpDir: work, env: req.environment, memoryMB: req.memoryMB, runtimeApiSocket: socket };
      const events = {
        onOutput: (c: Buffer) => void output.push(c),
        onExit: (e: { code: number | null; signal: string | null }) => void (exited = `the runtime exited during init (${e.code ?? e.signal})`),
      };
      let timer: NodeJS.Timeout | undefined;
      const initialized = () =>
        new Promise<void>((resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`init did not finish within ${timeoutMs} ms`)), timeoutMs);
          const poll = setInterval(() => exited && (clearInterval(poll), reject(new Error(exited))), 50);
          watch.result.then(
            (r) => (clearInterval(poll), r.ok ? resolve() : reject(new Error(`init failed: ${r.error}`))),
            (e: Error) => (clearInterval(poll), reject(e)),
          );
        }).finally(() => clearTimeout(timer));
      const target = join(work, "snapshot");
      let snap;
      try {
        snap = await buildVmSnapshot(this.opts.driver, spec, events, target, initialized);
      } catch (e) {
        const tail = Buffer.concat(output).toString().trim().split("\n").slice(-3).join(" | ").slice(-300);
        const reason = `${(e as Error).message}${tail ? `: ${tail}` : ""}`;
        this.opts.log.info("SnapStart VM snapshot not taken", { function: req.functionName, version: req.version, reason });
        return { status: "Off", reasonCode: "InitFailed", reason };
      }
      const snapshotId = shortId();
      const dir = join(this.opts.dir, snapshotId);
      await mkdir(dir, { recursive: true, mode: 0o711 });
      const files = await storeSnapshotFiles(this.opts.files, { memory: snap.memoryFile, state: snap.stateFile, "tmp.ext4": snap.tmpDisk }, dir);
      // The manifest names files by path: the links in the snapshot's directory.
      const moved = { ...snap, dir, memoryFile: join(dir, "memory"), stateFile: join(dir, "state"), tmpDisk: join(dir, "tmp.ext4"), files };
      await writeFile(join(dir, "snapshot.json"), JSON.stringify(moved, null, 2) + "\n");
      const buildMs = Math.round(performance.now() - started);
      this.opts.log.info("SnapStart VM snapshot taken", { function: req.functionName, version: req.version, snapshotId, stateBytes: snap.stateBytes, buildMs });
      return { status: "On", snapshotId, blobBytes: snap.stateBytes, buildMs };
    } finally {
      await watch.close();
      await rm(work, { recursive: true, force: true });
    }
  }
}

/**
 * A Runtime API for the build: holds the first GET /invocation/next (init is done; the VM is
 * paused while it is pending) and reports an init error if the runtime posts one.
 */
async function initWatcher(socketPath: string): Promise<{ result: Promise<{ ok: boolean; error?: string }>; close(): Promise<void> }> {
  let settle!: (r: { ok: boolean; error?: string }) => void;
  const result = new Promise<{ ok: boolean; error?: string }>((r) => (settle = r));
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url?.endsWith("/invocation/next")) {
        held.push(res);
        settle({ ok: true });
      } else if (req.url?.endsWith("/init/error")) {
        res.writeHead(202).end("{}");
        settle({ ok: false, error: body.slice(0, 500) });
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
  return {
    result,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
