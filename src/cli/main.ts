/**
 * Entry point of the `kiln` command (bin/kiln.js imports this file): wires process arguments,
 * environment, output streams and signals into runCli, then exits with its code.
 */
import { isGraceful, runCli, type CliContext } from "./index.js";

// The AWS SDK warns on every run that its 2027 releases will need Node 22; Kiln supports Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const argv = process.argv.slice(2);
const controller = new AbortController();
const graceful = isGraceful(argv);
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals++;
  if (!graceful || signals > 1) process.exit(signal === "SIGINT" ? 130 : 143);
  controller.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const ctx: CliContext = {
  env: process.env,
  cwd: process.cwd(),
  out: (text) => process.stdout.write(text + "\n"),
  err: (text) => process.stderr.write(text + "\n"),
  signal: controller.signal,
};
const code = await runCli(argv, ctx);
// Exit even if a keep-alive socket lingers, once stdout has taken the last write.
process.stdout.write("", () => process.exit(code));
