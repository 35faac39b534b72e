/** `kiln cluster status`: nodes, roles, partitions and their leaders, workers with their load and lease time left. */
import type { CliContext, CommandModule } from "../context.js";
import { parseCommandArgs, rejectExtraPositionals, UsageError } from "../usage.js";

export const usage = `Usage: kiln cluster status [--nats <servers>] [--json]

Shows the cluster as NATS sees it: the nodes and their roles, which node leads each assignment
partition, and every worker with its sandboxes, free memory, CPU and the time left on its lease.

Options:
  --nats S   NATS servers, comma-separated (KILN_NATS)
  --json     print the raw snapshot as JSON`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("cluster", argv, { nats: { type: "string" }, json: { type: "boolean" } });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  if (positionals[0] !== "status") throw new UsageError(positionals[0] === undefined ? "say what to do: kiln cluster status" : `unknown subcommand '${positionals[0]}': kiln cluster status`, "cluster");
  rejectExtraPositionals("cluster", positionals, 1);
  const { parseNatsServers } = await import("../../cluster/config.js");
  const { connectNats } = await import("../../cluster/node.js");
  const { readClusterSnapshot, renderStatus } = await import("../../cluster/status.js");
  const raw = values.nats ?? ctx.env.KILN_NATS;
  if (!raw) throw new UsageError("give the NATS servers with --nats nats://host:4222 (or KILN_NATS)", "cluster");
  const nc = await connectNats({ nats: parseNatsServers(raw), nodeId: "cli" }).catch((e: unknown) => {
    throw new Error(`cannot reach NATS at ${raw}: ${(e as Error).message}`);
  });
  try {
    const snapshot = await readClusterSnapshot(nc, Date.now());
    ctx.out(values.json ? JSON.stringify(snapshot, null, 2) : renderStatus(snapshot));
  } finally {
    await nc.close();
  }
  return 0;
}

export default { usage, run } satisfies CommandModule;
