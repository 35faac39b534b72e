/** `kiln worker drain <worker-id>`: asks a worker to drain now, as it would at the end of its lease. */
import type { CliContext, CommandModule } from "../context.js";
import { parseCommandArgs, rejectExtraPositionals, UsageError } from "../usage.js";

export const usage = `Usage: kiln worker drain <worker-id> [--nats <servers>] [--no-wait]

Drains a worker: it stops taking new sandboxes, lets busy ones finish, reaps idle ones,
deregisters and exits. Waits until the worker is gone (at most --timeout seconds) unless --no-wait.
See the worker ids with \`kiln cluster status\`.

Options:
  --nats S        NATS servers, comma-separated (KILN_NATS)
  --no-wait       return once the worker has accepted the request
  --timeout N     seconds to wait for the worker to leave (default 900, Lambda's longest timeout)`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("worker", argv, { nats: { type: "string" }, "no-wait": { type: "boolean" }, timeout: { type: "string" } });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  if (positionals[0] !== "drain") throw new UsageError(positionals[0] === undefined ? "say what to do: kiln worker drain <worker-id>" : `unknown subcommand '${positionals[0]}': kiln worker drain <worker-id>`, "worker");
  const workerId = positionals[1];
  if (workerId === undefined) throw new UsageError("give the worker id: kiln worker drain <worker-id> (see kiln cluster status)", "worker");
  rejectExtraPositionals("worker", positionals, 2);
  const timeoutS = values.timeout === undefined ? 900 : Number(values.timeout);
  if (!Number.isInteger(timeoutS) || timeoutS < 1) throw new UsageError(`--timeout must be a positive number of seconds, got '${values.timeout}'`, "worker");
  const { parseNatsServers } = await import("../../cluster/config.js");
  const { connectNats } = await import("../../cluster/node.js");
  const { readClusterSnapshot } = await import("../../cluster/status.js");
  const raw = values.nats ?? ctx.env.KILN_NATS;
  if (!raw) throw new UsageError("give the NATS servers with --nats nats://host:4222 (or KILN_NATS)", "worker");
  const nc = await connectNats({ nats: parseNatsServers(raw), nodeId: "cli" });
  try {
    const reply = await nc.request(`kiln.worker.${workerId}.drain`, "", { timeout: 5000 }).catch(() => undefined);
    if (!reply) throw new Error(`worker ${workerId} did not answer: is it running? (kiln cluster status lists the workers)`);
    ctx.out(`worker ${workerId} is draining`);
    if (values["no-wait"]) return 0;
    const t0 = Date.now();
    for (;;) {
      const s = await readClusterSnapshot(nc, Date.now());
      const w = s.workers.find((x) => x.id === workerId);
      if (!w) break;
      if (Date.now() - t0 > timeoutS * 1000) throw new Error(`worker ${workerId} is still draining after ${timeoutS} s (${w.runningSandboxes} sandboxes left)`);
      ctx.err(`kiln: ${workerId} draining, ${w.runningSandboxes} sandbox(es) left…`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    ctx.out(`worker ${workerId} drained and left the cluster (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  } finally {
    await nc.close();
  }
}

export default { usage, run } satisfies CommandModule;
