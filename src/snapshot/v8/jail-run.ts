/**
 * Runs one short-lived sandbox to its end: a snapshot build or a trial restore. The function's
 * init runs in the same jail, under the same uid and limits as its invocations will, never in
 * Kiln's own process. The sandbox gets a Runtime API socket that accepts and drops connections:
 * builds never call it, and a trial restore only has to connect.
 */
import { chown, mkdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import type { SandboxDriver, SandboxExit, SandboxSpec } from "../../sandbox/index.js";

export interface JailRun {
  exit: SandboxExit | undefined;
  output: string;
  timedOut: boolean;
}

/** Bytes of output kept (the tail). */
const OUTPUT_LIMIT = 64 * 1024;

export async function runToEnd(
  driver: SandboxDriver,
  spec: Omit<SandboxSpec, "runtimeApiSocket">,
  socketDir: string,
  timeoutMs: number,
  owner?: { uid: number; gid: number },
): Promise<JailRun> {
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  const socketPath = join(socketDir, "runtime.sock");
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  if (owner && process.getuid?.() === 0) await Promise.all([chown(socketDir, owner.uid, owner.gid), chown(socketPath, owner.uid, owner.gid)]);
  let output = "";
  let resolveExit: (e: SandboxExit) => void = () => undefined;
  const exited = new Promise<SandboxExit>((r) => (resolveExit = r));
  try {
    const sandbox = await driver.create(
      { ...spec, runtimeApiSocket: socketPath },
      {
        onOutput: (chunk) => {
          output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
        },
        onExit: resolveExit,
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    const exit = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await sandbox.destroy().catch(() => undefined);
    return { exit, output, timedOut: exit === undefined };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(socketDir, { recursive: true, force: true });
  }
}
