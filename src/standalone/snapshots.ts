/**
 * SnapStart wiring for the standalone server: the snapshot component's service over the code
 * store, the merged layers and the process driver, adapted to what the control plane asks of it
 * (make a published version's snapshot; drop one).
 */
import { join } from "node:path";
import { createLogger } from "../base/index.js";
import type { CodeStore } from "../artifacts/index.js";
import type { FunctionRecord, SnapshotCreator, SnapStartStatus } from "../control/index.js";
import type { MicroVmDriver, SandboxDriver } from "../sandbox/index.js";
import { SnapshotService, VmSnapshotService, type SnapshotFileStore } from "../snapshot/index.js";
import { functionEnvironment, logStreamName } from "../worker/index.js";

export interface SnapshotWiring {
  dataDir: string;
  runtimesDir: string;
  driver: SandboxDriver;
  region: string;
  now(): number;
  codeDir(codeSha256: string): Promise<string>;
  layersDir(layerSha256s: string[]): Promise<string | undefined>;
  sandboxUid: number;
  /** Snapshot files are stored in its blob area (<dataDir>/code/blobs, linked from <dataDir>/snapshots). */
  code: CodeStore;
}

export function snapshotService(w: SnapshotWiring): { service: SnapshotService | VmSnapshotService; creator: SnapshotCreator } {
  const files: SnapshotFileStore = {
    put: (path) => w.code.putBlob(path),
    link: (sha256, dest) => w.code.blobs.link(sha256, dest),
    release: (sha256, dest) => w.code.blobs.release(sha256, dest),
  };
  // Micro-VM sandboxes snapshot the whole VM (any runtime); process sandboxes use V8 snapshots.
  const service = w.driver.name === "microvm"
    ? new VmSnapshotService({ dir: join(w.dataDir, "snapshots"), files, driver: w.driver as MicroVmDriver, codeDir: w.codeDir, layersDir: w.layersDir, log: createLogger("snapshot") })
    : new SnapshotService({
    dir: join(w.dataDir, "snapshots"),
    files,
    runtimesDir: w.runtimesDir,
    driver: w.driver,
    codeDir: w.codeDir,
    layersDir: w.layersDir,
    log: createLogger("snapshot"),
    sandboxUid: w.sandboxUid,
    sandboxGid: w.sandboxUid,
  });
  const creator: SnapshotCreator = {
    async create(v: FunctionRecord): Promise<SnapStartStatus> {
      const environment = functionEnvironment({
        functionName: v.name,
        version: v.version,
        memoryMB: v.memorySize,
        region: w.region,
        handler: v.handler,
        runtime: v.runtime,
        logGroup: v.logGroup,
        logStream: logStreamName(w.now(), v.version, "snapstart"),
        user: v.environment,
        initializationType: "snap-start",
      });
      const r = await service.create({
        accountId: v.accountId,
        functionName: v.name,
        version: v.version,
        runtime: v.runtime,
        handler: v.handler,
        codeSha256: v.codeSha256,
        layerSha256s: (v.layers ?? []).map((l) => l.codeSha256),
        memoryMB: v.memorySize,
        environment,
      });
      return r.status === "On" ? { optimizationStatus: "On", snapshotId: r.snapshotId } : { optimizationStatus: "Off", reasonCode: r.reasonCode, reason: r.reason };
    },
    remove: (snapshotId) => service.remove(snapshotId),
  };
  return { service, creator };
}
