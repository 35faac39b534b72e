/**
 * Scratch directories and assertions shared by this component's tests. Test support only.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { KilnError, type LambdaErrorCode } from "../base/index.js";

const scratch: string[] = [];
// Registered when a test file imports this module, so it is a file-level hook that always runs.
after(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A fresh directory under the system temp dir, removed when the test file ends. */
export async function scratchDir(label = "kiln-artifacts-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  scratch.push(dir);
  return dir;
}

/** Sorted names in `dir`, including hidden ones: "nothing left behind" means this is unchanged. */
export async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** An assert.rejects/throws predicate for a KilnError with `code` whose message matches. */
export const kilnError =
  (code: LambdaErrorCode, message: RegExp | string) =>
  (e: unknown): boolean => {
    if (!(e instanceof KilnError)) throw e;
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`, { cause: e });
    if (typeof message === "string" ? e.message !== message : !message.test(e.message)) throw new Error(`unexpected message: ${e.message}`, { cause: e });
    return true;
  };
