/**
 * Test fixtures for worker nodes: a real Worker on the process driver without isolation (fast, no
 * root), a code store holding nodejs handlers, and the localize() a node uses. Not public surface.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, systemClock, type Logger } from "../../base/index.js";
import { CodeStore, zipFiles } from "../../artifacts/index.js";
import { createProcessDriver } from "../../sandbox/index.js";
import type { LogStore } from "../../store/index.js";
import { Worker, type EnvironmentSpec } from "../../worker/index.js";

/** src/runtimes of this checkout, from dist/src/cluster/workers. */
export const TEST_RUNTIMES_DIR = fileURLToPath(new URL("../../../../src/runtimes", import.meta.url));

export const quietLog: Logger = createLogger("test", "error");

const noLogs: LogStore = {
  append: () => undefined,
  filter: async () => ({ events: [] }),
  streams: async () => [],
  deleteGroup: async () => undefined,
  flush: async () => undefined,
};

export const HANDLERS = {
  "index.mjs": [
    "export const handler = async (event) => {",
    "  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));",
    "  if (event.fail) throw new Error('asked to fail');",
    "  console.log('handled', JSON.stringify(event));",
    "  return { echo: event, pid: process.pid };",
    "};",
  ].join("\n"),
};

export interface WorkerFixture {
  root: string;
  worker: Worker;
  code: CodeStore;
  codeSha256: string;
  spec(overrides?: Partial<EnvironmentSpec>): EnvironmentSpec;
  localize(spec: EnvironmentSpec): Promise<EnvironmentSpec>;
  /** Set by the test: what the worker reports when an environment dies by itself. */
  onDead: (id: string) => void;
  close(): Promise<void>;
}

export async function workerFixture(id = "w1"): Promise<WorkerFixture> {
  const root = await mkdtemp(join(tmpdir(), "kiln-workernode-"));
  const code = await CodeStore.open(join(root, "code"));
  const stored = await code.put(await zipFiles(HANDLERS));
  const fixture: Partial<WorkerFixture> = {};
  const worker = new Worker({
    id,
    driver: createProcessDriver({ isolation: "none", runtimesDir: TEST_RUNTIMES_DIR, logger: quietLog }),
    sandboxesDir: root,
    logs: noLogs,
    clock: systemClock,
    log: quietLog,
    capacityMB: 4096,
    onEnvironmentDead: (envId) => fixture.onDead?.(envId),
  });
  return Object.assign(fixture, {
    root,
    worker,
    code,
    codeSha256: stored.sha256,
    onDead: () => undefined,
    spec: (overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec => ({
      accountId: "000000000001",
      functionName: "echo",
      version: "$LATEST",
      runtime: "nodejs20.x",
      handler: "index.handler",
      codeSha256: stored.sha256,
      codeDir: "/elsewhere/not/on/this/worker",
      layerDirs: [],
      memoryMB: 128,
      environment: {},
      logGroup: "/aws/lambda/echo",
      region: "us-east-1",
      ...overrides,
    }),
    localize: async (spec: EnvironmentSpec) => ({ ...spec, codeDir: await code.ensureUnpacked(spec.codeSha256), layerDirs: [] }),
    close: async () => {
      await worker.close();
      await rm(root, { recursive: true, force: true });
    },
  }) as WorkerFixture;
}
