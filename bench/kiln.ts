/**
 * Kiln under test: a fresh `kiln server` process in a scratch data dir, an SDK client for the
 * control plane, and the sandbox pids (the server's child processes) for memory accounting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateFunctionCommand,
  LambdaClient,
  GetFunctionConfigurationCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type Runtime,
} from "@aws-sdk/client-lambda";
import type { Isolation } from "../src/base/index.js";
import type { FunctionCode } from "./functions.js";
import { childPids, treeCpuMs } from "./procfs.js";
import { cleanEnv, startServerProcess, type ServerProcess } from "./server-process.js";
import type { Credentials } from "./sigv4.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
export const REGION = "us-east-1";
export const BENCH_KEYS: Credentials = { accessKeyId: "AKIAKILNBENCH0000001", secretAccessKey: "kiln-bench-root-secret-00000000000000000" };
const ROLE = "arn:aws:iam::000000000000:role/kiln-bench";

export interface KilnOptions {
  isolation: Isolation;
  /** KILN_KEEP_ALIVE_MS (default: the server's, 10 minutes). */
  keepAliveMs?: number;
  /** Extra node flags for the server process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra server environment, e.g. { KILN_POOL_MAX: "0" } (no pre-initialized sandboxes). */
  env?: Record<string, string>;
}

export interface Kiln {
  url: string;
  /** "127.0.0.1:port", the Host header. */
  host: string;
  pid: number;
  client: LambdaClient;
  deploy(name: string, code: FunctionCode, extra?: { memoryMB?: number; timeoutS?: number }): Promise<void>;
  /** A new configuration (a changed environment variable): its first invoke needs a new environment. */
  newConfiguration(name: string, generation: number): Promise<void>;
  /** Host pids of the sandboxes (the server's child processes): environments and pre-initialized ones. */
  sandboxPids(): number[];
  /** Waits until nothing is starting or stopping: no sandbox came or went and the server with its
   *  sandboxes used at most one 10 ms CPU tick, over two 100 ms windows in a row (gives up after 5 s). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startKiln(o: KilnOptions): Promise<Kiln> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-bench-"));
  const env = cleanEnv({ KILN_ROOT_ACCESS_KEY_ID: BENCH_KEYS.accessKeyId, KILN_ROOT_SECRET_ACCESS_KEY: BENCH_KEYS.secretAccessKey });
  if (o.keepAliveMs !== undefined) env.KILN_KEEP_ALIVE_MS = String(o.keepAliveMs);
  Object.assign(env, o.env ?? {});
  let server: ServerProcess;
  try {
    server = await startServerProcess({
      argv: [process.execPath, ...(o.nodeArgs ?? []), CLI, "server", "--port", "0", "--data-dir", dataDir, "--isolation", o.isolation],
      env,
      readyPattern: /listening on (http:\/\/\S+)/,
      timeoutMs: 30_000,
      label: "kiln server",
    });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const url = server.ready;
  const client = new LambdaClient({ endpoint: url, region: REGION, credentials: BENCH_KEYS, maxAttempts: 1 });
  return {
    url,
    host: new URL(url).host,
    pid: server.pid,
    client,
    async deploy(name, code, extra = {}) {
      await client.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: code.runtime as Runtime,
          Handler: code.handler,
          Role: ROLE,
          Code: { ZipFile: code.zip },
          MemorySize: extra.memoryMB ?? 128,
          Timeout: extra.timeoutS ?? 30,
        }),
      );
      await until(client, name, (c) => c.State === "Active", (c) => c.State === "Failed");
    },
    async newConfiguration(name, generation) {
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { BENCH_GENERATION: String(generation) } } }));
      await until(client, name, (c) => c.LastUpdateStatus === "Successful", (c) => c.LastUpdateStatus === "Failed");
    },
    sandboxPids: () => childPids(server.pid),
    settle: () => settle(server.pid),
    async stop() {
      client.destroy();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function settle(pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  const snapshot = (): { pids: string; cpu: number } => {
    const t = treeCpuMs(pid);
    return { pids: childPids(pid).sort().join(","), cpu: t.root + t.descendants };
  };
  let quiet = 0;
  let last = snapshot();
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = snapshot();
    quiet = now.pids === last.pids && now.cpu - last.cpu <= 10 ? quiet + 1 : 0;
    last = now;
  }
}

/** Polls the function's configuration every 20 ms (the SDK's waiters sleep whole seconds). */
async function until(client: LambdaClient, name: string, done: (c: FunctionConfiguration) => boolean, failed: (c: FunctionConfiguration) => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (done(c)) return;
    if (failed(c)) throw new Error(`function ${name} failed: ${c.StateReasonCode ?? c.LastUpdateStatusReasonCode}: ${c.StateReason ?? c.LastUpdateStatusReason}`);
    if (Date.now() > deadline) throw new Error(`function ${name} did not settle within 60 s (${c.State}/${c.LastUpdateStatus})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
