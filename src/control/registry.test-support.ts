/** A FunctionRegistry on a scratch SQLite store with an in-memory code store, for unit tests. */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, createLogger } from "../base/index.js";
import { openSqliteStores } from "../store/index.js";
import { FunctionRegistry, type FunctionChange } from "./functions.js";
import type { CreateFunctionInput } from "./validation.js";

export interface TestRegistry {
  registry: FunctionRegistry;
  changes: FunctionChange[];
  clock: ManualClock;
  /** Creates a function whose code is `code` and waits until it is Active. */
  create(name: string, code?: string, extra?: Partial<CreateFunctionInput>): Promise<void>;
  close(): Promise<void>;
}

export async function testRegistry(accountConcurrency = 1000): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "kiln-control-"));
  const stores = openSqliteStores(join(dir, "kiln.db"));
  const clock = new ManualClock();
  const registry = new FunctionRegistry({
    metadata: stores.metadata,
    code: {
      put: async (zip) => ({ sha256: createHash("sha256").update(zip).digest("base64"), size: zip.length, unzippedBytes: zip.length }),
    },
    clock,
    region: "us-east-1",
    log: createLogger("test", "error"),
    accountConcurrency,
  });
  const changes: FunctionChange[] = [];
  registry.onChange((c) => changes.push(c));
  return {
    registry,
    changes,
    clock,
    async create(name, code = "v1", extra = {}) {
      await registry.create("000000000000", {
        name,
        runtime: "nodejs20.x",
        handler: "index.handler",
        role: "arn:aws:iam::000000000000:role/r",
        zipFile: Buffer.from(code),
        architectures: ["x86_64"],
        tags: {},
        publish: false,
        ...extra,
      });
      await registry.settled();
    },
    async close() {
      await registry.settled();
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
