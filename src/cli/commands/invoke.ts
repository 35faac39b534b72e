/**
 * `kiln invoke <fn> [payload]`: one synchronous (RequestResponse) invoke. The result payload goes
 * to stdout; with --log the decoded log tail (START ... REPORT) goes to stderr. A function error
 * prints its error payload and exits 1.
 */
import { InvokeCommand, type InvokeCommandInput } from "@aws-sdk/client-lambda";
import type { CliContext, CommandModule } from "../context.js";
import { createLambdaClient } from "../lambda-client.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional, UsageError } from "../usage.js";

export const usage = `Usage: kiln invoke <function> [payload-json] [--qualifier Q] [--log]

Invokes the function synchronously and prints the result payload on stdout. A function error
(X-Amz-Function-Error) prints the error payload and exits 1.

  <function>      name, name:qualifier, or ARN
  payload-json    the event, e.g. '{"x":1}' (default: none, which the function sees as {})
  --qualifier Q   version or alias to invoke (default $LATEST)
  --log           also print the last 4 KB of the invocation's log on stderr`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("invoke", argv, {
    qualifier: { type: "string" },
    log: { type: "boolean" },
  });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const fn = requirePositional("invoke", positionals, 0, "<function>");
  const payload = positionals[1];
  rejectExtraPositionals("invoke", positionals, 2);
  if (payload !== undefined) {
    try {
      JSON.parse(payload);
    } catch (e) {
      throw new UsageError(`the payload is not valid JSON (${(e as Error).message}); quote it for your shell, e.g. '{"x":1}'`, "invoke");
    }
  }

  const client = createLambdaClient(resolveTarget(ctx.env, ctx.cwd));
  try {
    const input: InvokeCommandInput = { FunctionName: fn, InvocationType: "RequestResponse" };
    if (payload !== undefined) input.Payload = Buffer.from(payload, "utf8");
    if (values.qualifier !== undefined) input.Qualifier = values.qualifier;
    if (values.log) input.LogType = "Tail";
    const res = await client.send(new InvokeCommand(input));
    if (values.log && res.LogResult) {
      const tail = Buffer.from(res.LogResult, "base64").toString("utf8");
      ctx.err(tail.endsWith("\n") ? tail.slice(0, -1) : tail);
    }
    const body = res.Payload ? Buffer.from(res.Payload).toString("utf8") : "";
    ctx.out(body);
    if (res.FunctionError) {
      ctx.err(`kiln: the function returned an error (${res.FunctionError})`);
      return 1;
    }
    return 0;
  } finally {
    client.destroy();
  }
}

export default { usage, run } satisfies CommandModule;
