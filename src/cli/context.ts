/**
 * What every `kiln` command receives and returns. Commands never touch `process` directly:
 * the environment, the working directory and the output streams come in through a CliContext,
 * so a command can be driven from a test as easily as from a terminal.
 */

export interface CliContext {
  /** Environment to read KILN_* / AWS_* settings from (process.env in production). */
  env: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Results: payloads, tables, JSON. */
  out(text: string): void;
  /** Progress lines, logs, diagnostics. */
  err(text: string): void;
  /** Aborted on Ctrl-C / SIGTERM; long-running commands (server, logs --follow) end cleanly. */
  signal: AbortSignal;
}

/** A command returns its exit code (0 success, 1 failure); usage and API errors are thrown. */
export type CommandRun = (argv: string[], ctx: CliContext) => Promise<number>;

export interface CommandModule {
  /** One-paragraph usage text printed by `kiln <command> --help`. */
  usage: string;
  run: CommandRun;
}
