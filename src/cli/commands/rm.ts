/** `kiln rm <fn>`: deletes a function (DeleteFunction), its code and its environments. */
import { DeleteFunctionCommand } from "@aws-sdk/client-lambda";
import type { CliContext, CommandModule } from "../context.js";
import { createLambdaClient } from "../lambda-client.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional } from "../usage.js";

export const usage = `Usage: kiln rm <function>

Deletes the function: its configuration, its code and its execution environments.`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, help } = parseCommandArgs("rm", argv, {});
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const fn = requirePositional("rm", positionals, 0, "<function>");
  rejectExtraPositionals("rm", positionals, 1);
  const client = createLambdaClient(resolveTarget(ctx.env, ctx.cwd));
  try {
    await client.send(new DeleteFunctionCommand({ FunctionName: fn }));
    ctx.out(`deleted ${fn}`);
    return 0;
  } finally {
    client.destroy();
  }
}

export default { usage, run } satisfies CommandModule;
