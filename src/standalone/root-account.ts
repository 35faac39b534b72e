/** The root account on start: made (or its configured keys adopted), written to the data dir, announced once. */
import { join } from "node:path";
import type { ServerConfig } from "../base/index.js";
import type { Accounts } from "../control/index.js";
import { DEFAULT_MEMORY_MB } from "../control/index.js";
import { DEFAULT_POOL_BURST_MS, DEFAULT_POOL_RESERVE_MB, DEFAULT_POOL_WINDOW_MS, type WorkerOptions } from "../worker/index.js";
import { writeCredentialFiles } from "./credentials.js";

export async function ensureRootAccount(accounts: Accounts, config: ServerConfig, opts: { announce: boolean; out: (line: string) => void }) {
  const keys = config.rootAccessKeyId && config.rootSecretAccessKey ? { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey } : undefined;
  const root = await accounts.ensureRoot(keys);
  await writeCredentialFiles(config.dataDir, root.account, config.region);
  if (root.generated && opts.announce) {
    opts.out(`Generated the root account's key pair (shown once; also in ${join(config.dataDir, "credentials")}, profile kiln):`);
    opts.out(`  AWS_ACCESS_KEY_ID=${root.account.accessKeyId}`);
    opts.out(`  AWS_SECRET_ACCESS_KEY=${root.account.secretAccessKey}`);
  }
  return root;
}

/** The worker's pool of pre-initialized sandboxes, as configured. */
export function poolSettings(config: Pick<ServerConfig, "poolMin" | "poolMax">): NonNullable<WorkerOptions["pool"]> {
  return {
    min: config.poolMin,
    max: config.poolMax,
    windowMs: DEFAULT_POOL_WINDOW_MS,
    burstMs: DEFAULT_POOL_BURST_MS,
    reserveMB: DEFAULT_POOL_RESERVE_MB,
    defaultMemoryMB: DEFAULT_MEMORY_MB,
  };
}
