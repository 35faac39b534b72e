/**
 * What the cold-start scenarios (cold-pool.ts, snapstart.ts) share: a `kiln server` process with
 * the pool and keep-alive settings they need, signed Invokes timed from the client with the REPORT
 * figures (Init Duration, or Restore Duration for SnapStart), and Kiln's pool diagnostics
 * (GET /kiln/2026-01-01/pool, root only) to wait for a filled pool or an empty server and to tell a
 * pool hit from a miss. Self-contained on purpose: it needs only server-process.ts, sigv4.ts and
 * stats.ts.
 */
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type Runtime,
} from "@aws-sdk/client-lambda";
import type { Isolation } from "../../src/base/index.js";
import { NodeSha256 } from "../../src/api/sha256.js";
import { cleanEnv, startServerProcess, type ServerProcess } from "../server-process.js";
import { InvokeSigner, type Credentials } from "../sigv4.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
/** bench/functions/ in the source tree (not compiled). */
export const FUNCTIONS_DIR = fileURLToPath(new URL("../../../bench/functions/", import.meta.url));
export const REGION = "us-east-1";
export const KEYS: Credentials = { accessKeyId: "AKIAKILNBENCH0000001", secretAccessKey: "kiln-bench-root-secret-00000000000000000" };
const ROLE = "arn:aws:iam::000000000000:role/kiln-bench";

/** What a scenario needs from the harness (bench/plan.ts's BenchContext has all of it). */
export interface ScenarioContext {
  plan: { quick: boolean };
  isolation: Isolation;
  kilnNodeArgs?: string[];
  progress(line: string): void;
}

export interface PoolClass {
  kind: string;
  memoryMB: number;
  target: number;
  idle: number;
  booting: number;
}

export interface PoolDiagnostics {
  enabled: boolean;
  environments: number;
  hits?: number;
  misses?: number;
  classes?: PoolClass[];
}

export interface ColdAnswer {
  status: number;
  ms: number;
  functionError: string | undefined;
  body: string;
  /** Init Duration, or Restore Duration for a SnapStart restore. */
  initMs: number | undefined;
  restored: boolean;
  error?: string;
}

export interface BenchKiln {
  url: string;
  client: LambdaClient;
  deploy(name: string, runtime: string, handler: string, zip: Buffer, extra?: { memoryMB?: number; snapStart?: boolean; environment?: Record<string, string> }): Promise<void>;
  /** A changed environment variable: the next invoke of $LATEST needs a new environment. */
  newConfiguration(name: string, generation: number): Promise<void>;
  /** PublishVersion, waiting until the version is Active (its SnapStart snapshot made). */
  publish(name: string): Promise<FunctionConfiguration>;
  invoke(name: string, qualifier?: string): Promise<ColdAnswer>;
  pool(): Promise<PoolDiagnostics>;
  /** Until no execution environment is hosted and every pool class holds its target (up to `timeoutMs`). */
  quiet(timeoutMs?: number): Promise<PoolDiagnostics>;
  stop(): Promise<void>;
}

export async function startBenchKiln(o: { isolation: Isolation; nodeArgs?: string[]; poolMin: number; poolMax: number; keepAliveMs?: number }): Promise<BenchKiln> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiln-bench-cold-"));
  const env = cleanEnv({
    KILN_ROOT_ACCESS_KEY_ID: KEYS.accessKeyId,
    KILN_ROOT_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    KILN_POOL_MIN: String(o.poolMin),
    KILN_POOL_MAX: String(o.poolMax),
    ...(o.keepAliveMs !== undefined ? { KILN_KEEP_ALIVE_MS: String(o.keepAliveMs) } : {}),
  });
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
  const base = new URL(url);
  const client = new LambdaClient({ endpoint: url, region: REGION, credentials: KEYS, maxAttempts: 1 });
  const agent = new http.Agent({ keepAlive: true });
  const signers = new Map<string, InvokeSigner>();
  const signer = new SignatureV4({ credentials: KEYS, region: REGION, service: "lambda", sha256: NodeSha256, applyChecksum: false, uriEscapePath: true });
  const until = async (name: string, qualifier: string | undefined, done: (c: FunctionConfiguration) => boolean): Promise<FunctionConfiguration> => {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: qualifier }));
      if (done(c)) return c;
      if (c.State === "Failed" || c.LastUpdateStatus === "Failed") throw new Error(`function ${name} failed: ${c.StateReason ?? c.LastUpdateStatusReason}`);
      if (Date.now() > deadline) throw new Error(`function ${name} did not settle (${c.State}/${c.LastUpdateStatus})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kiln: BenchKiln = {
    url,
    client,
    async deploy(name, runtime, handler, zip, extra = {}) {
      await client.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: runtime as Runtime,
          Handler: handler,
          Role: ROLE,
          Code: { ZipFile: zip },
          MemorySize: extra.memoryMB ?? 128,
          Timeout: 60,
          ...(extra.snapStart ? { SnapStart: { ApplyOn: "PublishedVersions" } } : {}),
          ...(extra.environment ? { Environment: { Variables: extra.environment } } : {}),
        }),
      );
      await until(name, undefined, (c) => c.State === "Active");
    },
    async newConfiguration(name, generation) {
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { BENCH_GENERATION: String(generation) } } }));
      await until(name, undefined, (c) => c.LastUpdateStatus === "Successful");
    },
    async publish(name) {
      const v = await client.send(new PublishVersionCommand({ FunctionName: name }));
      return until(name, v.Version, (c) => c.State === "Active");
    },
    async invoke(name, qualifier) {
      if (qualifier !== undefined) return invokeWithSdk(client, name, qualifier);
      let s = signers.get(name);
      if (!s) signers.set(name, (s = new InvokeSigner({ host: base.host, functionName: name, payload: "{}", region: REGION, credentials: KEYS, logTail: true })));
      return invokeTimed(agent, base, s);
    },
    async pool() {
      const req = await signer.sign({ method: "GET", protocol: "http:", hostname: base.hostname, port: Number(base.port), path: "/kiln/2026-01-01/pool", query: {}, headers: { host: base.host } });
      const { host: _host, ...headers } = req.headers;
      const res = await fetch(`${url}/kiln/2026-01-01/pool`, { headers });
      if (res.status !== 200) throw new Error(`pool diagnostics answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as PoolDiagnostics;
    },
    async quiet(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const p = await kiln.pool();
        const filled = !p.enabled || (p.classes ?? []).every((c) => c.idle >= c.target);
        if (p.environments === 0 && filled) return p;
        if (Date.now() > deadline) throw new Error(`the server did not quiet down within ${timeoutMs} ms: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      agent.destroy();
      client.destroy();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return kiln;
}

/** A qualified Invoke through the SDK (Qualifier is a query parameter, which sigv4.ts's signer does not sign). */
async function invokeWithSdk(client: LambdaClient, name: string, qualifier: string): Promise<ColdAnswer> {
  const started = performance.now();
  try {
    const r = await client.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier, Payload: Buffer.from("{}"), LogType: "Tail" }));
    const ms = performance.now() - started;
    const init = /(Init|Restore) Duration: ([\d.]+) ms/.exec(Buffer.from(r.LogResult ?? "", "base64").toString());
    return { status: r.StatusCode ?? 0, ms, functionError: r.FunctionError, body: Buffer.from(r.Payload ?? []).toString(), initMs: init ? Number(init[2]) : undefined, restored: init?.[1] === "Restore" };
  } catch (e) {
    return { status: 0, ms: performance.now() - started, functionError: undefined, body: "", initMs: undefined, restored: false, error: (e as Error).message };
  }
}

function invokeTimed(agent: http.Agent, base: URL, signer: InvokeSigner): Promise<ColdAnswer> {
  const signed = signer.sign();
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (error: string) => resolve({ status: 0, ms: performance.now() - started, functionError: undefined, body: "", initMs: undefined, restored: false, error });
    const req = http.request({ agent, host: base.hostname, port: base.port, method: "POST", path: signed.path, headers: signed.headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => fail(e.message));
      res.on("end", () => {
        const ms = performance.now() - started;
        const log = typeof res.headers["x-amz-log-result"] === "string" ? Buffer.from(res.headers["x-amz-log-result"], "base64").toString() : "";
        const init = /(Init|Restore) Duration: ([\d.]+) ms/.exec(log);
        const fe = res.headers["x-amz-function-error"];
        resolve({
          status: res.statusCode ?? 0,
          ms,
          functionError: typeof fe === "string" ? fe : undefined,
          body: Buffer.concat(chunks).toString(),
          initMs: init ? Number(init[2]) : undefined,
          restored: init?.[1] === "Restore",
        });
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 120 s")));
    req.on("error", (e) => fail(e.message));
    req.end(signed.body);
  });
}

// The report's number formatting, for the scenarios built on this kit.
export { num, spr, table } from "../format.js";
