/** `kiln server`: runs standalone Kiln (every component in this process) until Ctrl-C or SIGTERM. */
import { ConfigError, loadServerConfig, type ServerConfig } from "../../base/index.js";
import { loadAsyncOptions, startStandalone, type AsyncOptions } from "../../standalone/index.js";
import type { CliContext, CommandModule } from "../context.js";
import { closeWithin } from "../shutdown.js";
import { parseCommandArgs, parseIntOption, rejectExtraPositionals, UsageError } from "../usage.js";


export const usage = `Usage: kiln server [--port N] [--host H] [--data-dir D] [--isolation process|microvm|none]

Runs Kiln standalone: the Lambda API, the invoke path and the sandboxes in one process.
Prints the URL it listens on (and, on first start, the generated root credentials), then runs
until Ctrl-C or SIGTERM.

Options (each overrides its environment variable):
  --port N           port to listen on (KILN_PORT, default 9900; 0 picks a free one)
  --host H           address to bind (KILN_HOST, default 127.0.0.1)
  --data-dir D       metadata, code and logs (KILN_DATA_DIR, default ./.kiln)
  --isolation I      "process" (bubblewrap-jailed sandboxes, the default), "microvm" (one
                     QEMU micro-VM per sandbox: KVM where it works, else TCG emulation; the
                     guest image is built on first start, KILN_IMAGE_CACHE) or "none"
                     (plain child processes, no isolation: only for hosts without bubblewrap)`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("server", argv, {
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    isolation: { type: "string" },
  });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  rejectExtraPositionals("server", positionals, 0);
  const overrides: Partial<ServerConfig> = {};
  const port = parseIntOption("server", "--port", values.port);
  if (port !== undefined && port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`, "server");
  if (port !== undefined) overrides.port = port;
  if (values.host !== undefined) overrides.host = values.host;
  if (values["data-dir"] !== undefined) overrides.dataDir = values["data-dir"];
  if (values.isolation !== undefined) {
    if (values.isolation !== "process" && values.isolation !== "none" && values.isolation !== "microvm") throw new UsageError(`--isolation must be "process", "microvm" or "none", got '${values.isolation}'`, "server");
    overrides.isolation = values.isolation;
  }

  let config: ServerConfig;
  let asyncOptions: AsyncOptions;
  try {
    config = loadServerConfig(ctx.env, overrides);
    asyncOptions = loadAsyncOptions(ctx.env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message, "server");
    throw e;
  }

  if (ctx.signal.aborted) return 0;
  let server: Awaited<ReturnType<typeof startStandalone>>;
  try {
    server = await startStandalone(config, { async: asyncOptions });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(`${config.host}:${config.port} is already in use. Is Kiln already running? Choose another port with --port or KILN_PORT.`);
    }
    throw e;
  }
  ctx.out(`Kiln is listening on ${server.url}`);

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  ctx.err("kiln: shutting down… (Ctrl-C again to force)");
  return closeWithin(() => server.close(), ctx);
}

export default { usage, run } satisfies CommandModule;
