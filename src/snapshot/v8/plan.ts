/**
 * The pure decisions of a nodejs20.x SnapStart snapshot: which runtimes can have one, which file
 * the handler loads, how a bundled file keeps the paths it had in the sandbox, what in a bundle
 * rules a snapshot out, and what a failed build's output means. No I/O here (plan.test.ts).
 */
import type { RuntimeName } from "../../sandbox/index.js";

export type SnapStartReasonCode =
  /** The runtime has no snapshot mechanism on Kiln. */
  | "UnsupportedRuntime"
  /** The package (or a layer) holds native addons (.node files). */
  | "NativeAddon"
  /** The code loads modules at run time (require(variable), import(), require.resolve, createRequire). */
  | "DynamicImport"
  /** esbuild could not bundle the function (unresolvable import, top-level await, import.meta beyond url/dirname/filename). */
  | "BundleFailed"
  /** The handler's module could not be found, or init (or a before-snapshot hook) failed. */
  | "InitFailed"
  /** Node could not write a snapshot of the initialized function (e.g. it holds handles V8 cannot serialize). */
  | "BuildFailed"
  /** The snapshot was written but a trial restore failed. */
  | "RestoreFailed"
  /** This Kiln server has no snapshot builder. */
  | "Unavailable";

export const PYTHON_REASON =
  "SnapStart is not available for Python functions on Kiln: CPython has no startup-snapshot mechanism, and process checkpointing (CRIU) cannot restore jailed processes with the software packaged for these hosts. Cold starts of this version run init as usual (from a pre-initialized sandbox when one is free).";
export const PROVIDED_REASON = "SnapStart is not available for OS-only runtimes (provided.*): the function's bootstrap is its own runtime, which Kiln cannot snapshot.";

/** Why a runtime can never have a snapshot, or undefined when it can. */
export function unsupportedRuntimeReason(runtime: RuntimeName): string | undefined {
  if (runtime.startsWith("nodejs")) return undefined;
  return runtime.startsWith("python") ? PYTHON_REASON : PROVIDED_REASON;
}

/**
 * The files the nodejs runtime tries for `_HANDLER` (handler-loader.mjs, AWS's order), relative to
 * the code root: for "dir/file.a.b", dir/file, dir/file.js, dir/file.mjs, dir/file.cjs; the first
 * that exists is the handler's module. Empty for a malformed name. (The runtime would go on to
 * node_modules; a snapshot does not.)
 */
export function handlerCandidates(handler: string): string[] {
  if (handler.includes("..")) return [];
  const slash = handler.lastIndexOf("/");
  const root = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf(".");
  if (dot <= 0 || dot === base.length - 1) return [];
  const file = root + base.slice(0, dot);
  return [file, `${file}.js`, `${file}.mjs`, `${file}.cjs`];
}

/**
 * Where a host file is in the sandbox: under the code dir -> /var/task/..., under a layer dir ->
 * /opt/...; undefined for anything else (Kiln's own runtime files).
 */
export function sandboxPathOf(hostPath: string, roots: Array<{ host: string; sandbox: string }>): string | undefined {
  for (const r of roots) {
    const prefix = r.host.endsWith("/") ? r.host : `${r.host}/`;
    if (hostPath.startsWith(prefix)) return `${r.sandbox}/${hostPath.slice(prefix.length)}`;
  }
  return undefined;
}

/** End of a file's directive prologue (a hashbang, comments, "use strict"...): where code may be inserted without changing its meaning. */
export function prologueEnd(source: string): number {
  const re = /^(?:#![^\n]*\n)?(?:\s+|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|(["'])(?:use strict|use asm)\1\s*;?)*/;
  return re.exec(source)?.[0].length ?? 0;
}

/**
 * A module's source as the bundle must hold it so that it still sees its own sandbox path:
 * `import.meta.url|dirname|filename` become literals, and `__dirname`/`__filename` are declared at
 * its top (inside esbuild's per-module scope). Returns the source unchanged when it uses none.
 */
export function pinModulePaths(source: string, sandboxPath: string): string {
  const dirname = sandboxPath.slice(0, sandboxPath.lastIndexOf("/")) || "/";
  let out = source
    .replace(/\bimport\.meta\.url\b/g, JSON.stringify(`file://${sandboxPath}`))
    .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname))
    .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(sandboxPath));
  if (/\b__(?:dirname|filename)\b/.test(out)) {
    const at = prologueEnd(out);
    out = `${out.slice(0, at)}var __dirname = ${JSON.stringify(dirname)}, __filename = ${JSON.stringify(sandboxPath)};\n${out.slice(at)}`;
  }
  return out;
}

/**
 * Module loads a bundle leaves to run time. A restored snapshot has no module loader (Node 20: no
 * createRequire, no import()), so each would fail when reached. Scans the bundled text (comments
 * stripped by the minifier): any import(), require.resolve, createRequire, and any require() whose
 * argument is not a literal built-in name. Conservative: a match inside a string literal counts too.
 */
export function dynamicLoads(bundle: string, isBuiltin: (name: string) => boolean): string[] {
  const found = new Set<string>();
  const snippet = (i: number) => bundle.slice(Math.max(0, i - 20), i + 40).replace(/\s+/g, " ");
  for (const m of bundle.matchAll(/(?<![\w$.])import\s*\(/g)) found.add(`import(): ...${snippet(m.index)}...`);
  for (const m of bundle.matchAll(/\b(?:require\.resolve|createRequire)\b/g)) found.add(`${m[0]}: ...${snippet(m.index)}...`);
  for (const m of bundle.matchAll(/(?<![\w$.])require\s*\(\s*(?:(["'`])([^"'`]*)\1\s*\))?/g)) {
    if (m[2] !== undefined && isBuiltin(m[2])) continue;
    found.add(`require(${m[2] !== undefined ? JSON.stringify(m[2]) : "<expression>"}): ...${snippet(m.index)}...`);
  }
  return [...found];
}

/** Node's warnings about built-ins its snapshot builder does not support yet: the modules named. */
export function unverifiedBuiltins(output: string): string[] {
  return [...new Set([...output.matchAll(/built-in module "(?:node:)?([\w/]+)" works in user snapshot builder scripts/g)].map((m) => m[1]!))];
}

/** Modules Node 20 cannot hold in a startup snapshot at all (their bindings keep native handles). */
const UNSNAPSHOTTABLE_BUILTINS = new Set(["http", "https", "http2", "_http_agent", "_http_client", "_http_server"]);

/** A builder's output, made into the reason the configuration shows (last lines, bounded). */
export function buildFailureReason(output: string, code: number | null, signal: string | null, timedOut: boolean, limitMs: number): { code: SnapStartReasonCode; reason: string } {
  const meaningful = output
    .split("\n")
    .filter((l) => !/works in user snapshot builder scripts|It may still work in some cases|To request support for the module|Use `node --trace-warnings/.test(l))
    .join("\n");
  const tail = meaningful.trim().split("\n").slice(-6).join(" | ").slice(-600);
  if (timedOut) return { code: "InitFailed", reason: `init did not finish within ${Math.round(limitMs / 1000)} s (an open handle such as a timer or socket keeps the event loop alive)${tail ? `: ${tail}` : ""}` };
  const blocked = unverifiedBuiltins(output).filter((m) => UNSNAPSHOTTABLE_BUILTINS.has(m));
  if (blocked.length > 0) {
    return {
      code: "BuildFailed",
      reason: `the function loads ${blocked.map((m) => `node:${m}`).join(", ")} during init, which Node 20 cannot hold in a startup snapshot (load it inside the handler to use SnapStart)${tail ? `: ${tail}` : ""}`,
    };
  }
  if (signal === "SIGKILL") return { code: "BuildFailed", reason: `the snapshot build ran out of memory or was killed${tail ? `: ${tail}` : ""}` };
  if (code === 70) return { code: "InitFailed", reason: `the function's init failed: ${tail}` };
  if (/global handle not serialized|Check failed|Fatal error/.test(output)) {
    return { code: "BuildFailed", reason: `V8 cannot serialize what the function's init left in memory: ${tail}` };
  }
  return { code: "BuildFailed", reason: `the snapshot build failed (exit ${code ?? signal})${tail ? `: ${tail}` : ""}` };
}
