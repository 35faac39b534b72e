/**
 * `kiln ls`: every function of the account (all ListFunctions pages) as a table. ListFunctions
 * leaves out State (as on AWS), so the state of each function comes from GetFunctionConfiguration,
 * a few calls at a time.
 */
import { GetFunctionConfigurationCommand, paginateListFunctions, type FunctionConfiguration, type LambdaClient } from "@aws-sdk/client-lambda";
import type { CliContext, CommandModule } from "../context.js";
import { formatTable, shortTimestamp } from "../format.js";
import { createLambdaClient } from "../lambda-client.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals } from "../usage.js";

const STATE_LOOKUPS_IN_FLIGHT = 8;

export const usage = `Usage: kiln ls

Lists the account's functions: name, runtime, memory, last modified (UTC) and state.`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, help } = parseCommandArgs("ls", argv, {});
  if (help) {
    ctx.out(usage);
    return 0;
  }
  rejectExtraPositionals("ls", positionals, 0);
  const client = createLambdaClient(resolveTarget(ctx.env, ctx.cwd));
  try {
    const functions: FunctionConfiguration[] = [];
    for await (const page of paginateListFunctions({ client }, {})) functions.push(...(page.Functions ?? []));
    if (functions.length === 0) {
      ctx.err("No functions yet. Deploy one with `kiln deploy <dir> --name NAME --runtime RUNTIME --handler HANDLER`.");
      return 0;
    }
    const states = await statesOf(client, functions);
    const rows = functions
      .sort((a, b) => (a.FunctionName ?? "").localeCompare(b.FunctionName ?? ""))
      .map((f) => [f.FunctionName ?? "-", f.Runtime ?? "-", f.MemorySize === undefined ? "-" : `${f.MemorySize} MB`, shortTimestamp(f.LastModified), states.get(f.FunctionName ?? "") ?? "-"]);
    ctx.out(formatTable(["NAME", "RUNTIME", "MEMORY", "LAST MODIFIED", "STATE"], rows));
    return 0;
  } finally {
    client.destroy();
  }
}

async function statesOf(client: LambdaClient, functions: readonly FunctionConfiguration[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  const queue = [...functions];
  const lookup = async (): Promise<void> => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const name = f.FunctionName ?? "";
      if (f.State) {
        states.set(name, f.State);
        continue;
      }
      try {
        const c = await client.send(new GetFunctionConfigurationCommand({ FunctionName: f.FunctionArn ?? name }));
        states.set(name, c.LastUpdateStatus === "InProgress" ? `${c.State ?? "-"} (updating)` : (c.State ?? "-"));
      } catch {
        states.set(name, "-"); // deleted meanwhile, or not visible: leave the column empty
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATE_LOOKUPS_IN_FLIGHT, functions.length) }, lookup));
  return states;
}

export default { usage, run } satisfies CommandModule;
