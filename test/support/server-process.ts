/**
 * A standalone Kiln server as a separate process (`kiln server`), for tests that kill it with
 * SIGKILL and restart it on the same data dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ROOT_KEY } from "./kiln.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/** Starts `kiln server` on a free port with the test root keys; resolves once it listens. */
export function startServerProcess(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KILN_ROOT_ACCESS_KEY_ID: ROOT_KEY.accessKeyId,
    KILN_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.secretAccessKey,
    KILN_LOG_LEVEL: "error",
    ...(process.env.KILN_TEST_ISOLATION ? { KILN_ISOLATION: process.env.KILN_TEST_ISOLATION } : {}),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [MAIN, "server", "--port", "0", "--data-dir", dataDir], { env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`server exited early with ${code}: ${out}`)));
  });
}

/** Resolves when the process has exited (at once if it already has). */
export const exited = (c: ChildProcess): Promise<unknown> =>
  new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once("exit", r)));
