/**
 * Bundles a nodejs function for a V8 startup snapshot with esbuild: one CommonJS file holding
 * Kiln's snapshot runtime (src/runtimes/nodejs/snapshot-main.mjs) and every module the handler
 * imports, behind a generated entry that calls `snapshot(() => require(<handler module>), _HANDLER)`.
 * A snapshot builder script may load only built-in modules, hence the bundle.
 *
 * Modules resolve as the sandbox would resolve them: from the code dir, then the layers'
 * nodejs/node20/node_modules and nodejs/node_modules (NODE_PATH). Each bundled file of the code or
 * a layer keeps the paths it has in the sandbox (plan.ts pinModulePaths), so code reading files
 * next to itself still finds them under /var/task or /opt.
 *
 * Returns the bundle, or why the function cannot be snapshotted: native addons, loads left to run
 * time (require(variable), import(), require.resolve, createRequire: a restored snapshot has no
 * module loader), or anything esbuild refuses (an unresolvable import, top-level await).
 */
import { readdir, readFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { join, relative } from "node:path";
import * as esbuild from "esbuild";
import { dynamicLoads, pinModulePaths, sandboxPathOf, type SnapStartReasonCode } from "./plan.js";

export interface BundleInput {
  /** Host directory of the unpacked code (/var/task in the sandbox). */
  codeDir: string;
  /** Host directory of the merged layers (/opt in the sandbox), if any. */
  layersDir: string | undefined;
  /** The handler's module, relative to codeDir (plan.ts handlerModule). */
  handlerFile: string;
  handler: string;
  /** Host path of Kiln's src/runtimes/nodejs/snapshot-main.mjs. */
  snapshotMain: string;
}

export type BundleResult = { ok: true; code: string; bytes: number } | { ok: false; code: SnapStartReasonCode; reason: string };

const MAX_LISTED = 3;

/** Native addons anywhere in the tree (relative paths, a few). */
export async function nativeAddons(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (found.length >= MAX_LISTED) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".node")) found.push(relative(dir, p));
    }
  };
  await walk(dir);
  return found;
}

export async function bundleForSnapshot(input: BundleInput): Promise<BundleResult> {
  for (const [dir, where] of [[input.codeDir, "the package"], [input.layersDir, "a layer"]] as const) {
    if (dir === undefined) continue;
    const addons = await nativeAddons(dir);
    if (addons.length > 0) {
      return { ok: false, code: "NativeAddon", reason: `${where} holds native addons (${addons.join(", ")}): a V8 startup snapshot cannot hold the native state they create` };
    }
  }
  const roots = [{ host: input.codeDir, sandbox: "/var/task" }, ...(input.layersDir ? [{ host: input.layersDir, sandbox: "/opt" }] : [])];
  const pinPaths: esbuild.Plugin = {
    name: "kiln-sandbox-paths",
    setup(build) {
      build.onLoad({ filter: /\.(?:m?js|cjs)$/ }, async (args) => {
        const sandboxPath = sandboxPathOf(args.path, roots);
        if (sandboxPath === undefined) return undefined;
        return { contents: pinModulePaths(await readFile(args.path, "utf8"), sandboxPath), loader: "js" };
      });
    },
  };
  const entry = [
    `const kiln = require(${JSON.stringify(input.snapshotMain)});`,
    `kiln.snapshot(() => require(${JSON.stringify(join(input.codeDir, input.handlerFile))}), ${JSON.stringify(input.handler)});`,
    "",
  ].join("\n");
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      stdin: { contents: entry, resolveDir: input.codeDir, sourcefile: "kiln-snapshot-entry.cjs", loader: "js" },
      bundle: true,
      write: false,
      platform: "node",
      format: "cjs",
      target: "node20",
      absWorkingDir: input.codeDir,
      nodePaths: input.layersDir ? [join(input.layersDir, "nodejs", "node20", "node_modules"), join(input.layersDir, "nodejs", "node_modules")] : [],
      logLevel: "silent",
      plugins: [pinPaths],
    });
  } catch (e) {
    const errors = (e as esbuild.BuildFailure).errors ?? [];
    const text = errors.slice(0, MAX_LISTED).map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ""}${m.text}`).join("; ");
    const addon = errors.some((m) => /\.node"/.test(m.text));
    return { ok: false, code: addon ? "NativeAddon" : "BundleFailed", reason: `esbuild could not bundle the function: ${text || (e as Error).message}` };
  }
  const emptyMeta = result.warnings.filter((w) => w.id === "empty-import-meta");
  if (emptyMeta.length > 0) {
    const at = emptyMeta[0]!.location;
    return { ok: false, code: "BundleFailed", reason: `the code uses import.meta beyond url/dirname/filename${at ? ` (${at.file}:${at.line})` : ""}, which a bundle cannot keep` };
  }
  const code = result.outputFiles[0]!.text;
  const scanned = (await esbuild.transform(code, { minifyWhitespace: true, legalComments: "none", loader: "js" })).code;
  const loads = dynamicLoads(scanned, (name) => isBuiltin(name));
  if (loads.length > 0) {
    return { ok: false, code: "DynamicImport", reason: `the code loads modules at run time, which a restored snapshot cannot: ${loads.slice(0, MAX_LISTED).join("; ")}` };
  }
  return { ok: true, code, bytes: Buffer.byteLength(code) };
}
