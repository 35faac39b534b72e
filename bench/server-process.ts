/**
 * A server under test as its own process (so the load generator never shares its event loop),
 * started from a clean environment: this machine's NODE_EXTRA_CA_CERTS would add ~60 ms to every
 * Node start it reaches. Waits for a line on stdout that says the server is ready; keeps the tail of
 * the output for error messages.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface ServerProcess {
  readonly pid: number;
  /** Captured by the ready pattern's first group. */
  readonly ready: string;
  /** The last ~16 KB the process wrote. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerProcessOptions {
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Matched against stdout+stderr; its first group becomes `ready`. */
  readyPattern: RegExp;
  timeoutMs: number;
  label: string;
}

/** process.env without what must not reach a measured process. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "NODE_EXTRA_CA_CERTS" && k !== "NODE_OPTIONS") env[k] = v;
  return { ...env, ...extra };
}

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const [file, ...args] = o.argv;
  if (file === undefined) throw new TypeError("empty argv");
  const child: ChildProcess = spawn(file, args, { cwd: o.cwd, env: o.env ?? cleanEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
  let tail = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.label} did not become ready within ${o.timeoutMs} ms:\n${tail}`)), o.timeoutMs);
    let isReady = false;
    const onData = (d: Buffer): void => {
      tail = (tail + d.toString()).slice(-16_384);
      const m = isReady ? null : o.readyPattern.exec(tail);
      if (m) {
        isReady = true;
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${o.label} exited (${code ?? signal}) before it was ready:\n${tail}`));
    });
  }).catch(async (e: unknown) => {
    if (child.exitCode === null) kill(child.pid, "SIGKILL");
    await exited;
    throw e;
  });
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  return {
    pid,
    ready,
    output: () => tail,
    stop: (graceMs = 20_000) =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        kill(pid, "SIGTERM");
        const timer = setTimeout(() => kill(-pid, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
        // Whatever the server left behind in its process group (it was started detached).
        kill(-pid, "SIGKILL");
      })()),
  };
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
