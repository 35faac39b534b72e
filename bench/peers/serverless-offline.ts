/**
 * The peer: serverless-offline 13.10.1 on serverless 3.40.0 (serverless 4 cannot install on these
 * machines: it downloads a binary), installed with npm into bench/.peers/ (git-ignored) and invoked
 * through its Lambda-compatible endpoint with the bench's own nodejs20.x handler file.
 *
 * Modes: "worker" (the default: one worker thread per concurrent call, reused while idle) and
 * "in-process" (`--useInProcess`: the handler runs in the server's own event loop, no isolation).
 * `--reloadHandler` gives every call a new worker thread, a fresh environment in worker mode.
 * Otherwise idle workers are kept for an hour (its default of 60 s would turn a warm benchmark that
 * revisits a concurrency level a minute later into cold starts).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_HANDLER_FILE } from "../functions.js";
import { cleanEnv, startServerProcess } from "../server-process.js";

export const SERVERLESS_VERSION = "3.40.0";
export const SERVERLESS_OFFLINE_VERSION = "13.10.1";
export const PEER_DIR = fileURLToPath(new URL("../../../bench/.peers/serverless-offline/", import.meta.url));
/** serverless names a function <service>-<stage>-<function>. */
export const PEER_FUNCTION = "kiln-bench-dev-noop";

export type PeerMode = "worker" | "in-process";

export interface PeerInstall {
  ok: boolean;
  /** "already installed", "installed in 84 s", or why it failed. */
  detail: string;
}

const installedVersion = (pkg: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(join(PEER_DIR, "node_modules", pkg, "package.json"), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
};

/** Installs the peer once (npm, the ordinary client); later runs reuse it. */
export async function installPeer(): Promise<PeerInstall> {
  if (installedVersion("serverless") === SERVERLESS_VERSION && installedVersion("serverless-offline") === SERVERLESS_OFFLINE_VERSION) {
    return { ok: true, detail: "already installed" };
  }
  mkdirSync(PEER_DIR, { recursive: true });
  const pkg = { private: true, description: "kiln bench peer (throwaway)", dependencies: { serverless: SERVERLESS_VERSION, "serverless-offline": SERVERLESS_OFFLINE_VERSION } };
  writeFileSync(join(PEER_DIR, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  const started = Date.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    // npm keeps the user's environment (a registry CA in NODE_EXTRA_CA_CERTS, a proxy): it is not measured.
    const npm = spawn("npm", ["install", "--no-fund", "--no-audit", "--loglevel=error"], { cwd: PEER_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    npm.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    npm.stderr.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    npm.once("error", (e) => resolve({ code: -1, output: e.message }));
    npm.once("close", (c) => resolve({ code: c, output: out }));
  });
  if (code !== 0) {
    const line = output.split("\n").find((l) => /ERR!|error/i.test(l)) ?? output.trim().split("\n").pop() ?? "";
    return { ok: false, detail: `npm install failed (exit ${code}): ${line.trim()}` };
  }
  return { ok: true, detail: `installed in ${Math.round((Date.now() - started) / 1000)} s` };
}

/** The service: serverless.yml plus the bench handler, rewritten on every start. */
function writeService(): string {
  const dir = join(PEER_DIR, "service");
  mkdirSync(dir, { recursive: true });
  copyFileSync(NODE_HANDLER_FILE, join(dir, "index.mjs"));
  writeFileSync(
    join(dir, "serverless.yml"),
    [
      "service: kiln-bench",
      'frameworkVersion: "3"',
      "provider:",
      "  name: aws",
      "  runtime: nodejs20.x",
      "  region: us-east-1",
      "  memorySize: 128",
      "functions:",
      "  noop:",
      "    handler: index.handler",
      "plugins:",
      "  - serverless-offline",
      "",
    ].join("\n"),
  );
  return dir;
}

export interface Peer {
  url: string;
  /** "127.0.0.1:port" */
  host: string;
  pid: number;
  mode: PeerMode;
  /** Start to "listening", ms. */
  startMs: number;
  stop(): Promise<void>;
}

export async function startPeer(mode: PeerMode, opts: { reloadHandler?: boolean } = {}): Promise<Peer> {
  const cwd = writeService();
  const bin = join(PEER_DIR, "node_modules", "serverless", "bin", "serverless.js");
  if (!existsSync(bin)) throw new Error(`serverless is not installed in ${PEER_DIR}`);
  const [httpPort, websocketPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
  const argv = [process.execPath, bin, "offline", "start", "--host", "127.0.0.1", "--httpPort", String(httpPort), "--websocketPort", String(websocketPort), "--lambdaPort", String(lambdaPort)];
  if (mode === "in-process") argv.push("--useInProcess");
  // Its default reaps a worker idle for 60 s; Kiln (like Lambda) keeps one 10 minutes. Warm means warm.
  if (opts.reloadHandler === true) argv.push("--reloadHandler");
  else argv.push("--terminateIdleLambdaTime", "3600");
  const started = performance.now();
  const server = await startServerProcess({
    argv,
    cwd,
    env: cleanEnv({ SLS_TELEMETRY_DISABLED: "1", SLS_NOTIFICATIONS_MODE: "off", SLS_DEPRECATION_DISABLE: "*" }),
    readyPattern: /\[http for lambda\] listening on (http:\/\/\S+)/,
    timeoutMs: 60_000,
    label: `serverless-offline (${mode})`,
  });
  const startMs = performance.now() - started;
  return { url: server.ready, host: `127.0.0.1:${lambdaPort}`, pid: server.pid, mode, startMs, stop: () => server.stop(5_000) };
}

/** A port the kernel just handed out (free unless someone takes it in between). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
