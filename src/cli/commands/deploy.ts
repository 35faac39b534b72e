/**
 * `kiln deploy <dir>`: zips a directory and makes it the function's $LATEST code. Creates the
 * function when it does not exist; otherwise updates the code, waits for the update to finish,
 * then updates the configuration (Lambda refuses a second update while one is in progress).
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type FunctionConfiguration,
  type LambdaClient,
  type Runtime,
  type UpdateFunctionConfigurationCommandInput,
} from "@aws-sdk/client-lambda";
import { zipDirectory } from "../../artifacts/index.js";
import type { CliContext, CommandModule } from "../context.js";
import { createLambdaClient } from "../lambda-client.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, parseEnvPairs, parseIntOption, rejectExtraPositionals, requireOption, requirePositional, UsageError } from "../usage.js";

export const DEFAULT_ROLE = "arn:aws:iam::000000000000:role/kiln";
/** How long to wait for Active / Successful before giving up, in seconds. */
const WAIT_SECONDS = 300;

export const usage = `Usage: kiln deploy <dir> --name NAME --runtime RUNTIME --handler HANDLER
                   [--memory MB] [--timeout S] [--env KEY=VALUE ...] [--role ARN]

Zips <dir> and deploys it as function NAME: creates it, or if it exists updates its code and
then its configuration. Waits until the function is Active and the update Successful, then
prints its ARN, state and CodeSha256.

  --name NAME        function name
  --runtime RUNTIME  nodejs20.x, python3.11, provided.al2023 or provided.al2
  --handler HANDLER  e.g. index.handler (Node.js), app.handler (Python)
  --memory MB        memory size, 128-10240 (default 128 on create)
  --timeout S        timeout in seconds, 1-900 (default 3 on create)
  --env KEY=VALUE    environment variable; repeat for more. On update, the given set replaces
                     the old one; without --env the variables are left as they are.
  --role ARN         execution role (default ${DEFAULT_ROLE})

Example: kiln deploy ./examples/hello --name hello --runtime nodejs20.x --handler index.handler`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("deploy", argv, {
    name: { type: "string" },
    runtime: { type: "string" },
    handler: { type: "string" },
    memory: { type: "string" },
    timeout: { type: "string" },
    env: { type: "string", multiple: true },
    role: { type: "string" },
  });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const dir = resolve(ctx.cwd, requirePositional("deploy", positionals, 0, "<dir>, the directory to deploy"));
  rejectExtraPositionals("deploy", positionals, 1);
  const name = requireOption("deploy", values.name, "--name");
  const runtime = requireOption("deploy", values.runtime, "--runtime");
  const handler = requireOption("deploy", values.handler, "--handler");
  const memory = parseIntOption("deploy", "--memory", values.memory);
  const timeout = parseIntOption("deploy", "--timeout", values.timeout);
  const variables = values.env === undefined ? undefined : parseEnvPairs("deploy", values.env);
  const role = values.role ?? DEFAULT_ROLE;

  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${dir} is not a directory`, "deploy");

  const target = resolveTarget(ctx.env, ctx.cwd);
  const zip = await zipDirectory(dir);
  ctx.err(`kiln: packaged ${dir} (${formatBytes(zip.length)})`);

  const client = createLambdaClient(target);
  try {
    const settings: UpdateFunctionConfigurationCommandInput = { FunctionName: name, Runtime: runtime as Runtime, Handler: handler };
    if (memory !== undefined) settings.MemorySize = memory;
    if (timeout !== undefined) settings.Timeout = timeout;
    if (variables !== undefined) settings.Environment = { Variables: variables };

    let action: string;
    try {
      await client.send(new CreateFunctionCommand({ ...settings, FunctionName: name, Role: role, Code: { ZipFile: zip } }));
      action = "created";
      await waitFor(ctx, client, name, "Active");
    } catch (e) {
      if ((e as Error).name !== "ResourceConflictException") throw e;
      await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));
      await waitFor(ctx, client, name, "updated code");
      await client.send(new UpdateFunctionConfigurationCommand(settings));
      await waitFor(ctx, client, name, "updated configuration");
      action = "updated";
    }

    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    printConfiguration(ctx, action, config);
    return config.State === "Failed" || config.LastUpdateStatus === "Failed" ? 1 : 0;
  } finally {
    client.destroy();
  }
}

async function waitFor(ctx: CliContext, client: LambdaClient, name: string, what: "Active" | "updated code" | "updated configuration"): Promise<void> {
  const waiter = what === "Active" ? waitUntilFunctionActiveV2 : waitUntilFunctionUpdatedV2;
  ctx.err(what === "Active" ? `kiln: waiting for ${name} to become Active…` : `kiln: ${what}, waiting for the update to finish…`);
  try {
    await waiter({ client, maxWaitTime: WAIT_SECONDS, minDelay: 0.25, maxDelay: 2, abortSignal: ctx.signal }, { FunctionName: name });
  } catch (e) {
    // The waiter throws a JSON dump on Failed or timeout; the caller prints the real state below.
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (config.State === "Failed" || config.LastUpdateStatus === "Failed") {
      const reason = config.State === "Failed" ? config.StateReason : config.LastUpdateStatusReason;
      const code = config.State === "Failed" ? config.StateReasonCode : config.LastUpdateStatusReasonCode;
      throw new Error(`${name} failed to deploy: ${code ?? "Failed"}: ${reason ?? "no reason given"}`);
    }
    if ((e as Error).name === "TimeoutError") throw new Error(`${name} is still ${config.State}/${config.LastUpdateStatus} after ${WAIT_SECONDS} s`);
    throw e;
  }
}

function printConfiguration(ctx: CliContext, action: string, c: FunctionConfiguration): void {
  ctx.err(`kiln: ${action} ${c.FunctionName}`);
  const rows: [string, string | undefined][] = [
    ["FunctionArn", c.FunctionArn],
    ["State", c.State],
    ["LastUpdateStatus", c.LastUpdateStatus],
    ["CodeSha256", c.CodeSha256],
  ];
  for (const [k, v] of rows) ctx.out(`${k.padEnd(17)}${v ?? "-"}`);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export default { usage, run } satisfies CommandModule;
