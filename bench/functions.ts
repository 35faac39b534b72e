/**
 * The benchmark's function packages, one per runtime, built from the sources in bench/functions/.
 * Every handler answers {"ok":true,"environment":"<id fixed at init>"}; the Node and Python ones
 * sleep for event.sleepMs first when it is set.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { zipFiles } from "../src/artifacts/index.js";

/** bench/functions/ in the source tree (these files are not compiled). */
export const FUNCTIONS_DIR = fileURLToPath(new URL("../../bench/functions/", import.meta.url));
export const NODE_HANDLER_FILE = join(FUNCTIONS_DIR, "nodejs", "index.mjs");
/** Kiln's in-sandbox runtimes (src/runtimes/, plain JS, as the standalone server mounts them). */
export const RUNTIMES_DIR = fileURLToPath(new URL("../../src/runtimes/", import.meta.url));

export type BenchRuntime = "nodejs20.x" | "python3.11" | "provided.al2023";

export interface FunctionCode {
  runtime: BenchRuntime;
  handler: string;
  zip: Buffer;
  /** How the code was made, for the report. */
  note: string;
}

export async function functionCode(runtime: BenchRuntime): Promise<FunctionCode> {
  switch (runtime) {
    case "nodejs20.x":
      return { runtime, handler: "index.handler", zip: await zipFiles({ "index.mjs": readFileSync(NODE_HANDLER_FILE) }), note: "ESM no-op handler" };
    case "python3.11":
      return { runtime, handler: "app.handler", zip: await zipFiles({ "app.py": readFileSync(join(FUNCTIONS_DIR, "python", "app.py")) }), note: "no-op handler" };
    case "provided.al2023":
      return { runtime, handler: "bootstrap", zip: await zipFiles({ bootstrap: { data: compileBootstrap(), mode: 0o755 } }), note: "C runtime client (cc -O2)" };
  }
}

/** Compiles bench/functions/provided/bootstrap.c with the system's C compiler (also needed to build better-sqlite3). */
function compileBootstrap(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "kiln-bench-cc-"));
  try {
    const out = join(dir, "bootstrap");
    execFileSync("cc", ["-O2", "-o", out, join(FUNCTIONS_DIR, "provided", "bootstrap.c")], { stdio: ["ignore", "ignore", "pipe"] });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
