/**
 * Argument parsing for every command: node:util parseArgs plus the few conversions the commands
 * share (integers, repeated K=V pairs), turning every mistake into a UsageError whose message says
 * what was wrong. main.ts prints it with a pointer to `kiln <command> --help` and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The command whose help to point at, if known. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>["values"];
  positionals: string[];
  help: boolean;
}

/** parseArgs with `--help`/`-h` added and errors converted to UsageError. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): Parsed<O> {
  if (argv.includes("--help") || argv.includes("-h")) {
    return { values: {} as Parsed<O>["values"], positionals: [], help: true };
  }
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Parsed<O>["values"], positionals: r.positionals, help: false };
  } catch (e) {
    // parseArgs messages look like "Unknown option '--nme'. To specify a positional argument starting with a '-' ..."
    const message = e instanceof Error ? e.message.split(". To specify")[0]! : String(e);
    throw new UsageError(message, command);
  }
}

export function requirePositional(command: string, positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (v === undefined || v === "") throw new UsageError(`missing ${what}`, command);
  return v;
}

export function rejectExtraPositionals(command: string, positionals: string[], allowed: number): void {
  if (positionals.length > allowed) throw new UsageError(`unexpected argument '${positionals[allowed]}'`, command);
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing required option ${flag}`, command);
  return value;
}

export function parseIntOption(command: string, flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number, got '${raw}'`, command);
  return Number(raw);
}

/** `--env K=V` pairs into a map; the value may contain '=' and may be empty. */
export function parseEnvPairs(command: string, pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got '${pair}'`, command);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}
