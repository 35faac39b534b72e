/**
 * Real NATS servers for tests: one JetStream server, or a cluster of several on loopback, each a
 * `nats-server` process with its own store dir. Members can be stopped (SIGTERM or SIGKILL) and
 * started again on the same ports and store, to prove failover and rejoin.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

export const NATS_SERVER = process.env.KILN_NATS_SERVER ?? "nats-server";

export interface NatsNode {
  name: string;
  url: string;
  port: number;
  clusterPort: number;
  storeDir: string;
  child?: ChildProcess;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every member's client URL, comma-separated (what `--nats` takes). */
  servers: string;
  urls: string[];
  /** Stops one member: SIGTERM (lame duck) by default, or SIGKILL. */
  stop(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped member again on its ports and store dir. */
  start(name: string): Promise<void>;
  /** A client connection to the cluster (closed by close()). */
  connect(): Promise<NatsConnection>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function configOf(node: NatsNode, peers: NatsNode[]): string {
  const lines = [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.port}`,
    `jetstream { store_dir: "${node.storeDir}", max_memory_store: 256MB, max_file_store: 2GB }`,
  ];
  if (peers.length > 1) {
    const routes = peers.filter((p) => p !== node).map((p) => `nats-route://127.0.0.1:${p.clusterPort}`);
    lines.push(`cluster { name: kiln-test, listen: 127.0.0.1:${node.clusterPort}, routes: [${routes.join(", ")}] }`);
  }
  return lines.join("\n") + "\n";
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}: ${err}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms: ${err}`);
}

/** Resolves once JetStream answers (for a cluster: once it has a meta leader). */
export async function waitForJetStream(servers: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers, timeout: 2000 });
      const jsm = await jetstreamManager(nc, { timeout: 2000 });
      await jsm.getAccountInfo();
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await nc?.close().catch(() => undefined);
    }
  }
  throw new Error(`JetStream not ready within ${timeoutMs} ms: ${String(last)}`);
}

/** Starts `size` JetStream servers (1: a single server; 3: a cluster that survives losing one). */
export async function startNats(size = 1): Promise<NatsCluster> {
  const root = await mkdtemp(join(tmpdir(), "kiln-nats-"));
  const nodes: NatsNode[] = [];
  for (let i = 1; i <= size; i++) {
    const port = await freePort();
    const clusterPort = await freePort();
    nodes.push({ name: `n${i}`, url: `nats://127.0.0.1:${port}`, port, clusterPort, storeDir: join(root, `n${i}`) });
  }
  const launch = async (node: NatsNode) => {
    const conf = join(root, `${node.name}.conf`);
    await writeFile(conf, configOf(node, nodes));
    node.child = spawn(NATS_SERVER, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    await waitForPort(node.port, node.child, 10_000);
  };
  await Promise.all(nodes.map(launch));
  const urls = nodes.map((n) => n.url);
  await waitForJetStream(urls);
  const conns: NatsConnection[] = [];
  const byName = (name: string) => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no NATS node ${name}`);
    return n;
  };
  const stopNode = async (node: NatsNode, signal: NodeJS.Signals = "SIGTERM") => {
    const c = node.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once("exit", r));
    c.kill(signal);
    await gone;
    node.child = undefined;
  };
  return {
    nodes,
    urls,
    servers: urls.join(","),
    stop: (name, signal) => stopNode(byName(name), signal),
    start: async (name) => {
      await launch(byName(name));
      await waitForJetStream(urls);
    },
    connect: async () => {
      const nc = await connect({ servers: urls });
      conns.push(nc);
      return nc;
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
      await Promise.all(nodes.map((n) => stopNode(n, "SIGKILL")));
      await rm(root, { recursive: true, force: true });
    },
  };
}
