/**
 * A Kiln cluster on one machine for tests: real `nats-server` processes (test/support/nats.ts)
 * and real `kiln node` processes with the roles each test asks for, on loopback. Nodes can be
 * killed (SIGKILL) and started again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateFunctionCommand, InvokeCommand, LambdaClient, waitUntilFunctionActiveV2 } from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, ROOT_KEY } from "./kiln.js";
import { startNats, type NatsCluster } from "./nats.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface NodeSpec {
  id: string;
  roles: string[];
  env?: NodeJS.ProcessEnv;
}

export interface RunningNode {
  spec: NodeSpec;
  child: ChildProcess;
  url?: string;
  workerUrl?: string;
  output: () => string;
  exited: Promise<number | null>;
}

export interface TestCluster {
  nats: NatsCluster;
  nodes: Map<string, RunningNode>;
  secret: string;
  env: NodeJS.ProcessEnv;
  /** Starts a node (again, after a kill: same id, same data dir). */
  start(spec: NodeSpec): Promise<RunningNode>;
  kill(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** A node's data dir (its sandboxes' /tmp dirs live under it). */
  dataDirOf(id: string): string;
  /** An SDK client for a frontend node. */
  client(id: string, opts?: { maxAttempts?: number }): LambdaClient;
  close(): Promise<void>;
}

export interface ClusterOptions {
  natsNodes?: number;
  /** The root account's keys (default: the tests' ROOT_KEY). */
  keys?: { accessKeyId: string; secretAccessKey: string };
  partitions?: number;
  env?: NodeJS.ProcessEnv;
}

export async function startCluster(nodes: NodeSpec[], opts: ClusterOptions = {}): Promise<TestCluster> {
  const nats = await startNats(opts.natsNodes ?? 3);
  const root = await mkdtemp(join(tmpdir(), "kiln-cluster-"));
  // Sandboxes (an unprivileged uid) traverse the nodes' data dirs below it.
  await chmod(root, 0o711);
  const secret = randomBytes(32).toString("hex");
  const keys = opts.keys ?? ROOT_KEY;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KILN_ROOT_ACCESS_KEY_ID: keys.accessKeyId,
    KILN_ROOT_SECRET_ACCESS_KEY: keys.secretAccessKey,
    KILN_CLUSTER_SECRET: secret,
    KILN_NATS: nats.servers,
    KILN_PARTITIONS: String(opts.partitions ?? 4),
    KILN_LOG_LEVEL: process.env.KILN_LOG_LEVEL ?? "warn",
    KILN_POOL_MAX: "0",
    ...(process.env.KILN_TEST_ISOLATION ? { KILN_ISOLATION: process.env.KILN_TEST_ISOLATION } : {}),
    ...opts.env,
  };
  const running = new Map<string, RunningNode>();
  const clients: LambdaClient[] = [];

  const start = async (spec: NodeSpec): Promise<RunningNode> => {
    const child = spawn(
      process.execPath,
      [MAIN, "node", "--node-id", spec.id, "--roles", spec.roles.join(","), "--port", "0", "--worker-port", "0", "--data-dir", join(root, spec.id)],
      { env: { ...env, ...spec.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const node: RunningNode = { spec, child, output: () => out, exited };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${spec.id} did not start within 60 s:\n${out}`)), 60_000);
      const check = () => {
        const up = new RegExp(`Kiln node ${spec.id} is up`).exec(out);
        if (!up) return;
        node.url = /is listening on (http:\/\/\S+)/.exec(out)?.[1];
        node.workerUrl = /serves sandboxes on (http:\/\/\S+)/.exec(out)?.[1];
        clearTimeout(timer);
        resolve();
      };
      child.stdout!.on("data", check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`node ${spec.id} exited with ${code} while starting:\n${out}`));
      });
    });
    running.set(spec.id, node);
    return node;
  };

  const kill = async (id: string, signal: NodeJS.Signals = "SIGKILL") => {
    const n = running.get(id);
    if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.child.kill(signal);
    await n.exited;
  };

  try {
    for (const spec of nodes) await start(spec);
  } catch (e) {
    for (const id of running.keys()) await kill(id);
    await nats.close();
    await rm(root, { recursive: true, force: true });
    throw e;
  }
  return {
    nats,
    nodes: running,
    secret,
    env,
    start,
    kill,
    dataDirOf: (id) => join(root, id),
    client: (id, o = {}) => {
      const url = running.get(id)?.url;
      if (!url) throw new Error(`node ${id} has no frontend`);
      const c = new LambdaClient({ endpoint: url, region: "us-east-1", credentials: keys, maxAttempts: o.maxAttempts ?? 1 });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await Promise.all(
        [...running.keys()].map(async (id) => {
          const t = setTimeout(() => running.get(id)?.child.kill("SIGKILL"), 5000);
          await kill(id, "SIGTERM");
          clearTimeout(t);
        }),
      );
      await nats.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Creates a nodejs20.x function whose index.mjs is `source` and waits until it is Active. */
export async function deployNode(c: LambdaClient, name: string, source: string): Promise<void> {
  await c.send(new CreateFunctionCommand({ FunctionName: name, Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: await zipFiles({ "index.mjs": source }) } }));
  await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 60, minDelay: 1 }, { FunctionName: name });
}

/** A synchronous invoke whose function error is thrown; resolves with the parsed answer. */
export async function invokeJson<T>(c: LambdaClient, name: string, event: object): Promise<T> {
  const r = await c.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }));
  if (r.FunctionError) throw new Error(`function error: ${Buffer.from(r.Payload ?? []).toString()}`);
  return JSON.parse(Buffer.from(r.Payload!).toString()) as T;
}
