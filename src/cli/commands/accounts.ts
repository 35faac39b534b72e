/**
 * `kiln accounts create <name>`: a new account through Kiln's admin API
 * (`POST /kiln/2026-01-01/accounts`, SigV4 service `lambda`, root credentials only). Prints the
 * account's id and key pair as JSON; the secret is shown only this once.
 */
import type { CliContext, CommandModule } from "../context.js";
import { signedFetch } from "../signed-fetch.js";
import { resolveTarget } from "../target.js";
import { parseCommandArgs, rejectExtraPositionals, requirePositional, UsageError } from "../usage.js";

export const ACCOUNTS_PATH = "/kiln/2026-01-01/accounts";

export const usage = `Usage: kiln accounts create <name>

Creates an account (root credentials required) and prints its AccountId, AccessKeyId and
SecretAccessKey as JSON. Functions belong to one account; other accounts cannot see them.
Use the keys with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or in a credentials profile.`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { positionals, help } = parseCommandArgs("accounts", argv, {});
  if (help) {
    ctx.out(usage);
    return 0;
  }
  const sub = requirePositional("accounts", positionals, 0, "subcommand (create)");
  if (sub !== "create") throw new UsageError(`unknown subcommand '${sub}' (expected: create)`, "accounts");
  const name = requirePositional("accounts", positionals, 1, "<name> of the account");
  rejectExtraPositionals("accounts", positionals, 2);

  const res = await signedFetch(resolveTarget(ctx.env, ctx.cwd), {
    method: "POST",
    path: ACCOUNTS_PATH,
    service: "lambda",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ Name: name }),
  });
  ctx.out(JSON.stringify(JSON.parse(res.text), null, 2));
  return 0;
}

export default { usage, run } satisfies CommandModule;
