/**
 * Server configuration: one path, DEFAULTS -> environment (KILN_<KEY>) -> explicit overrides, validated once.
 */
import { resolve } from "node:path";

export type Isolation = "process" | "none" | "microvm";

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  region: string;
  rootAccessKeyId?: string;
  rootSecretAccessKey?: string;
  isolation: Isolation;
  /** Idle execution environments are reaped after this long (Lambda: ~10 minutes). */
  keepAliveMs: number;
  /** Account concurrency limit (AWS default quota: 1,000). */
  accountConcurrency: number;
  /** Pre-initialized sandboxes each pooled runtime keeps without demand (KILN_POOL_MIN). */
  poolMin: number;
  /** Most pre-initialized sandboxes per pooled runtime (KILN_POOL_MAX); 0 disables the pool. */
  poolMax: number;
}

export const DEFAULT_PORT = 9900;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_DATA_DIR = "./.kiln";
export const DEFAULT_REGION = "us-east-1";
export const DEFAULT_KEEP_ALIVE_MS = 10 * 60_000;
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;
export const DEFAULT_POOL_MIN = 1;
export const DEFAULT_POOL_MAX = 8;

export class ConfigError extends Error {}

function intFrom(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const isolation = (overrides.isolation ?? env.KILN_ISOLATION ?? "process") as Isolation;
  if (isolation !== "process" && isolation !== "none" && isolation !== "microvm") throw new ConfigError(`KILN_ISOLATION must be "process", "microvm" or "none", got "${isolation}"`);
  const cfg: ServerConfig = {
    port: overrides.port ?? intFrom("KILN_PORT", env.KILN_PORT, DEFAULT_PORT, 0, 65535),
    host: overrides.host ?? env.KILN_HOST ?? DEFAULT_HOST,
    dataDir: resolve(overrides.dataDir ?? env.KILN_DATA_DIR ?? DEFAULT_DATA_DIR),
    region: overrides.region ?? env.KILN_REGION ?? DEFAULT_REGION,
    isolation,
    keepAliveMs: overrides.keepAliveMs ?? intFrom("KILN_KEEP_ALIVE_MS", env.KILN_KEEP_ALIVE_MS, DEFAULT_KEEP_ALIVE_MS, 1000, 24 * 3600_000),
    accountConcurrency:
      overrides.accountConcurrency ?? intFrom("KILN_ACCOUNT_CONCURRENCY", env.KILN_ACCOUNT_CONCURRENCY, DEFAULT_ACCOUNT_CONCURRENCY, 1, 100_000),
    poolMin: overrides.poolMin ?? intFrom("KILN_POOL_MIN", env.KILN_POOL_MIN, DEFAULT_POOL_MIN, 0, 64),
    poolMax: overrides.poolMax ?? intFrom("KILN_POOL_MAX", env.KILN_POOL_MAX, DEFAULT_POOL_MAX, 0, 256),
  };
  if (cfg.poolMin > cfg.poolMax && cfg.poolMax > 0) throw new ConfigError(`KILN_POOL_MIN (${cfg.poolMin}) cannot exceed KILN_POOL_MAX (${cfg.poolMax})`);
  const keyId = overrides.rootAccessKeyId ?? env.KILN_ROOT_ACCESS_KEY_ID;
  const secret = overrides.rootSecretAccessKey ?? env.KILN_ROOT_SECRET_ACCESS_KEY;
  if ((keyId && !secret) || (!keyId && secret)) throw new ConfigError("Set both KILN_ROOT_ACCESS_KEY_ID and KILN_ROOT_SECRET_ACCESS_KEY, or neither");
  if (keyId) cfg.rootAccessKeyId = keyId;
  if (secret) cfg.rootSecretAccessKey = secret;
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(cfg.region)) throw new ConfigError(`KILN_REGION "${cfg.region}" is not a region name like us-east-1`);
  return cfg;
}
