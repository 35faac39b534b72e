/**
 * The host end of the agent's control channel (virtio-serial port "kiln.ctl", which QEMU connects
 * to its own stdin/stdout): JSON lines both ways. See guest/agent.py for the messages.
 */
import type { Readable, Writable } from "node:stream";

export type AgentMessage =
  | { t: "ready" }
  | { t: "started"; pid: number }
  | { t: "out"; d: string }
  | { t: "exit"; code: number | null; signal: string | null; oom: boolean }
  | { t: "stats"; id: number; peak: number }
  | { t: "reseeded"; id: number }
  | { t: "restored"; id: number }
  | { t: "next" }
  | { t: "pong"; id: number };

export type HostMessage =
  | { t: "run"; argv: string[]; env: Record<string, string>; cwd: string; memoryMB: number; uid: number }
  | { t: "restart" }
  | { t: "stats"; id: number }
  | { t: "reseed"; seed: string; id: number }
  | { t: "restored"; seed: string; id: number }
  | { t: "ping"; id: number };

export class ControlChannel {
  private buf = "";
  private nextId = 1;
  private readonly waiting = new Map<number, (m: AgentMessage) => void>();
  private readonly listeners = new Set<(m: AgentMessage) => void>();

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    input.setEncoding("utf8");
    input.on("data", (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        let m: AgentMessage;
        try {
          m = JSON.parse(line) as AgentMessage;
        } catch {
          continue;
        }
        if ("id" in m && this.waiting.has(m.id)) {
          const w = this.waiting.get(m.id)!;
          this.waiting.delete(m.id);
          w(m);
        }
        for (const l of this.listeners) l(m);
      }
    });
    output.on("error", () => undefined);
  }

  on(listener: (m: AgentMessage) => void): void {
    this.listeners.add(listener);
  }

  send(m: HostMessage): void {
    this.output.write(JSON.stringify(m) + "\n");
  }

  /** Sends a request carrying a fresh id and resolves with the agent's answer to it. */
  request<T extends AgentMessage>(make: (id: number) => HostMessage, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the guest agent did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      this.send(make(id));
    });
  }

  /** Resolves with the next message of type `t`. */
  next<K extends AgentMessage["t"]>(t: K, timeoutMs = 60_000): Promise<Extract<AgentMessage, { t: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`no "${t}" from the guest agent within ${timeoutMs} ms`));
      }, timeoutMs);
      // Waiting for a message never keeps the process alive (a VM may never send it).
      timer.unref();
      const l = (m: AgentMessage): void => {
        if (m.t !== t) return;
        this.listeners.delete(l);
        clearTimeout(timer);
        resolve(m as Extract<AgentMessage, { t: K }>);
      };
      this.listeners.add(l);
    });
  }
}
