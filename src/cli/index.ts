/**
 * cli: the `kiln` command. `kiln server` runs standalone Kiln in this process; every other
 * command is a client of the public API only (the Lambda REST API through the AWS SDK, the
 * Logs-compatible endpoint and the admin API through signed-fetch.ts), never of server internals.
 *
 * runCli picks the command, loads its module lazily (so `kiln invoke` never loads the server)
 * and turns any thrown error into one line on stderr and an exit code. main.ts wires it to the
 * process.
 *
 * Must not import: api, control, frontend, worker, sandbox, store, or any component but base,
 * artifacts (deploy zips a directory), standalone (server) and cluster (node, cluster, worker).
 */
import { describeError } from "./errors.js";
import type { CliContext, CommandModule } from "./context.js";
import { resolveEndpoint } from "./target.js";
import { UsageError } from "./usage.js";

interface CommandEntry {
  summary: string;
  load: () => Promise<{ default: CommandModule }>;
  /** Long-running commands end cleanly on the first Ctrl-C; the others just stop. */
  graceful?: boolean;
}

const COMMANDS: Record<string, CommandEntry> = {
  server: { summary: "run Kiln standalone (what `npm start` does)", load: () => import("./commands/server.js"), graceful: true },
  deploy: { summary: "zip a directory and create or update a function", load: () => import("./commands/deploy.js") },
  invoke: { summary: "invoke a function synchronously and print its result", load: () => import("./commands/invoke.js") },
  logs: { summary: "print a function's logs, optionally following them", load: () => import("./commands/logs.js"), graceful: true },
  ls: { summary: "list functions", load: () => import("./commands/ls.js") },
  rm: { summary: "delete a function", load: () => import("./commands/rm.js") },
  accounts: { summary: "create accounts (accounts create <name>)", load: () => import("./commands/accounts.js") },
  images: { summary: "build the micro-VM guest image (images build)", load: () => import("./commands/images.js") },
  "async-stats": { summary: "a function's async queue, retries and drops", load: () => import("./commands/async-stats.js") },
  node: { summary: "run one node of a cluster on NATS JetStream (--roles, --nats)", load: () => import("./commands/node.js"), graceful: true },
  cluster: { summary: "cluster status: nodes, partition leaders, workers", load: () => import("./commands/cluster.js") },
  worker: { summary: "drain a cluster worker (worker drain <id>)", load: () => import("./commands/worker.js") },
};

export const MAIN_USAGE = `Usage: kiln <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)}${c.summary}`)
  .join("\n")}
  help         this text, or \`kiln help <command>\`

Client commands reach the server at KILN_HOST:KILN_PORT (default 127.0.0.1:9900) and sign with
KILN_ROOT_ACCESS_KEY_ID/KILN_ROOT_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
else the [kiln] profile in <KILN_DATA_DIR or ./.kiln>/credentials (written by the server).
Run \`kiln <command> --help\` for a command's options.`;

export type { CliContext, CommandModule } from "./context.js";

/** Runs one command line and returns the exit code. Never throws. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let endpoint: string | undefined;
  try {
    endpoint = resolveEndpoint(ctx.env);
  } catch {
    // reported by the command that needs it
  }
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" ? rest[0] : undefined;
      if (topic === undefined) {
        if (name === undefined) {
          ctx.err(MAIN_USAGE);
          return 2;
        }
        ctx.out(MAIN_USAGE);
        return 0;
      }
      const entry = lookup(topic);
      if (!entry) throw new UsageError(`unknown command '${topic}'`);
      ctx.out((await entry.load()).default.usage);
      return 0;
    }
    if (name === "--version" || name === "version") {
      ctx.out(await version());
      return 0;
    }
    const entry = lookup(name);
    if (!entry) throw new UsageError(`unknown command '${name}'`);
    return await (await entry.load()).default.run(rest, ctx);
  } catch (e) {
    const report = describeError(e, endpoint);
    ctx.err(report.message);
    if (ctx.env.KILN_LOG_LEVEL === "debug" && e instanceof Error && e.stack) ctx.err(e.stack);
    return report.exitCode;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string };
  return `kiln ${pkg.version ?? "unknown"}`;
}

/** Whether the command ends cleanly on the first Ctrl-C (server, logs --follow) instead of just stopping. */
export function isGraceful(argv: readonly string[]): boolean {
  return argv[0] !== undefined && lookup(argv[0])?.graceful === true;
}

function lookup(name: string): CommandEntry | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}
