/**
 * End-to-end test support: a real standalone Kiln server in a scratch data dir, and real clients
 * (AWS SDK v3, Debian's AWS CLI v2) pointed at it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { LambdaClient, CreateFunctionCommand, waitUntilFunctionActiveV2, type Runtime } from "@aws-sdk/client-lambda";
import { loadServerConfig, type ServerConfig } from "../../src/base/index.js";
import { startStandalone, type Standalone, type StandaloneOptions } from "../../src/standalone/index.js";
import { zipFiles } from "../../src/artifacts/index.js";

export const ROOT_KEY = { accessKeyId: "AKIAKILNTESTROOT0001", secretAccessKey: "kiln-test-root-secret-0000000000000000000" };
export const ROLE = "arn:aws:iam::000000000000:role/kiln-test";

export interface TestKiln {
  url: string;
  port: number;
  dataDir: string;
  kiln: Standalone;
  client(keys?: { accessKeyId: string; secretAccessKey: string }): LambdaClient;
  /** Creates a function from files and waits until it is Active. */
  deploy(name: string, runtime: string, handler: string, files: Parameters<typeof zipFiles>[0], extra?: Record<string, unknown>): Promise<void>;
  /** Runs Debian's AWS CLI v2 against the server; resolves with exit code, stdout and stderr. */
  aws(args: string[], opts?: { keys?: { accessKeyId: string; secretAccessKey: string }; cwd?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startKiln(
  overrides: Partial<ServerConfig> = {},
  dataDir = mkdtempSync(join(tmpdir(), "kiln-e2e-")),
  standalone: Omit<StandaloneOptions, "announce"> = {},
): Promise<TestKiln> {
  const config = loadServerConfig({ KILN_ISOLATION: process.env.KILN_TEST_ISOLATION }, { port: 0, dataDir, rootAccessKeyId: ROOT_KEY.accessKeyId, rootSecretAccessKey: ROOT_KEY.secretAccessKey, ...overrides });
  const kiln = await startStandalone(config, { announce: false, ...standalone });
  const port = Number(new URL(kiln.url).port);
  const clients: LambdaClient[] = [];
  const client = (keys = ROOT_KEY) => {
    const c = new LambdaClient({ endpoint: kiln.url, region: config.region, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const t: TestKiln = {
    url: kiln.url,
    port,
    dataDir,
    kiln,
    client,
    async deploy(name, runtime, handler, files, extra = {}) {
      const c = client();
      await c.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime as Runtime, Handler: handler, Role: ROLE, Code: { ZipFile: await zipFiles(files) }, ...extra }));
      await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 30, minDelay: 1 }, { FunctionName: name });
    },
    aws(args, opts = {}) {
      const keys = opts.keys ?? ROOT_KEY;
      const env: NodeJS.ProcessEnv = {
        PATH: "/usr/bin:/bin",
        HOME: dataDir,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_DEFAULT_REGION: config.region,
        AWS_PAGER: "",
        AWS_EC2_METADATA_DISABLED: "true",
      };
      return new Promise((resolve) => {
        execFile("/usr/bin/aws", ["--endpoint-url", kiln.url, ...args], { env, cwd: opts.cwd ?? dataDir, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
        });
      });
    },
    async stop(opts = {}) {
      for (const c of clients) c.destroy();
      await kiln.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Writes a file in the data dir (for fileb:// arguments of the AWS CLI). */
export function writeScratch(t: TestKiln, name: string, data: Buffer | string): string {
  const p = join(t.dataDir, name);
  writeFileSync(p, data);
  return p;
}

export const json = (payload: Uint8Array | undefined): unknown => JSON.parse(Buffer.from(payload ?? []).toString() || "null");
