/**
 * A minimal QMP client (QEMU Machine Protocol: JSON over the VM's unix socket): connect, leave
 * capabilities negotiation, execute commands one at a time, wait for a migration to finish.
 */
import { connect, type Socket } from "node:net";

export class Qmp {
  private buf = "";
  private waiter: ((m: Record<string, unknown>) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding("utf8");
    sock.on("data", (c: string) => {
      this.buf += c;
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const m = JSON.parse(line) as Record<string, unknown>;
        if ("event" in m || "QMP" in m) continue;
        const w = this.waiter;
        this.waiter = undefined;
        w?.(m);
      }
    });
  }

  /** Connects (retrying while QEMU creates the socket) and negotiates capabilities. */
  static async open(path: string, timeoutMs = 20_000): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once("error", reject);
        });
        const q = new Qmp(sock);
        await q.execute("qmp_capabilities");
        return q;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`QMP socket ${path}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const run = () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        this.waiter = (m) => ("error" in m ? reject(new Error(`QMP ${command}: ${JSON.stringify(m.error)}`)) : resolve((m.return ?? {}) as Record<string, unknown>));
        this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Polls query-migrate until completed (or failed). */
  async waitMigration(timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.execute("query-migrate");
      if (r.status === "completed") return r;
      if (r.status === "failed" || r.status === "cancelled") throw new Error(`migration ${String(r.status)}: ${JSON.stringify(r)}`);
      if (Date.now() > deadline) throw new Error(`migration still ${String(r.status)} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
