/**
 * Cluster node configuration: a standalone server's settings plus the node's roles, the NATS
 * servers, how the node is reached, and the shared secret that authenticates nodes to each other.
 * One path, as for the server: environment (KILN_<KEY>) -> explicit overrides, validated once.
 */
import { hostname } from "node:os";
import { ConfigError, loadServerConfig, type ServerConfig } from "../base/index.js";

export const ROLES = ["frontend", "worker", "assignment", "pollers", "control"] as const;
export type Role = (typeof ROLES)[number];

/** Assignment partitions (functions hash onto them; each has one leader). */
export const DEFAULT_PARTITIONS = 8;
/** A worker's maximum lifetime before it drains and exits (Lambda: 14 h). */
export const DEFAULT_WORKER_LEASE_MS = 14 * 3600_000;
export const DEFAULT_WORKER_PORT = 9901;

export interface NodeConfig extends ServerConfig {
  nodeId: string;
  roles: ReadonlySet<Role>;
  /** NATS servers of the cluster. */
  nats: string[];
  /** Shared by every node: signs node-to-node requests (KILN_CLUSTER_SECRET, at least 32 chars). */
  clusterSecret: string;
  /** Where the worker role listens for frontends and assignment leaders. */
  workerHost: string;
  workerPort: number;
  /** The address other nodes use to reach this one (default: the bind address). */
  advertiseHost: string;
  partitions: number;
  /** JetStream replicas of every bucket and stream (default min(3, number of NATS servers)). */
  replicas: number;
  workerLeaseMs: number;
  /** Worker role: memory this worker offers to sandboxes (KILN_WORKER_MEMORY_MB; default 90% of the host's). */
  workerMemoryMB?: number;
  /** Control role: the capacity manager (KILN_CAPACITY; unset = off). */
  capacity?: CapacityConfig;
}

/** How often the capacity manager decides, unless KILN_CAPACITY says `interval=`. */
export const DEFAULT_CAPACITY_INTERVAL_MS = 10_000;

/**
 * KILN_CAPACITY, parsed: `local:min=N,max=M[,cooldown=60s][,interval=10s][,step=2][,memory=MB]`.
 * `local` = worker nodes started as child processes of the control node that runs the manager.
 */
export interface CapacityConfig {
  provider: "local";
  minWorkers: number;
  maxWorkers: number;
  /** Hold after each add/remove (default: the policy's, 60 s). */
  coolDownMs?: number;
  /** How often the manager decides (default 10 s). */
  intervalMs: number;
  /** At most this many workers added at once (default: the policy's, 2). */
  maxStep?: number;
  /** Memory each started worker offers to sandboxes (its --worker-memory; default: this host's share, 90% / max). */
  workerMemoryMB?: number;
}

export type NodeOverrides = Partial<Omit<NodeConfig, "roles">> & { roles?: Iterable<Role> };

export function parseRoles(raw: string): Set<Role> {
  const roles = new Set<Role>();
  for (const r of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (r === "all") ROLES.forEach((x) => roles.add(x));
    else if ((ROLES as readonly string[]).includes(r)) roles.add(r as Role);
    else throw new ConfigError(`unknown role "${r}": roles are ${ROLES.join(", ")} (or all)`);
  }
  if (roles.size === 0) throw new ConfigError(`give at least one role: ${ROLES.join(", ")} (or all)`);
  return roles;
}

export function parseNatsServers(raw: string): string[] {
  const servers = raw.split(",").map((s) => s.trim()).filter(Boolean);
  if (servers.length === 0) throw new ConfigError("give the NATS servers with --nats nats://host:4222[,nats://host2:4222] (or KILN_NATS)");
  for (const s of servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(s) && !/^[^\s:/]+:\d+$/.test(s)) throw new ConfigError(`"${s}" is not a NATS server address like nats://10.0.0.5:4222`);
  }
  return servers;
}

const CAPACITY_FORMAT = "local:min=N,max=M[,cooldown=60s][,interval=10s][,step=2][,memory=MB]";
const CAPACITY_KEYS = ["min", "max", "cooldown", "interval", "step", "memory"];

/** A duration like 500ms, 5s, 2m or 1h. */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a duration like 500ms, 5s, 2m or 1h, got "${raw}"`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"]);
}

/** Parses KILN_CAPACITY / --capacity; undefined for "" or "off". */
export function parseCapacity(raw: string | undefined): CapacityConfig | undefined {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "off") return undefined;
  const colon = raw.indexOf(":");
  const provider = (colon < 0 ? raw : raw.slice(0, colon)).trim();
  if (provider !== "local") throw new ConfigError(`KILN_CAPACITY: unknown provider "${provider}" (built in: local); the format is ${CAPACITY_FORMAT}`);
  const fields = new Map<string, string>();
  for (const part of (colon < 0 ? "" : raw.slice(colon + 1)).split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(eq + 1).trim() === "") throw new ConfigError(`KILN_CAPACITY: "${part}" has no value; the format is ${CAPACITY_FORMAT}`);
    const key = part.slice(0, eq).trim();
    if (!CAPACITY_KEYS.includes(key)) throw new ConfigError(`KILN_CAPACITY: unknown setting "${key}"; the format is ${CAPACITY_FORMAT}`);
    if (fields.has(key)) throw new ConfigError(`KILN_CAPACITY: "${key}" is given twice`);
    fields.set(key, part.slice(eq + 1).trim());
  }
  const int = (key: string, min: number, max: number): number | undefined => {
    const v = fields.get(key);
    return v === undefined ? undefined : intFrom(`KILN_CAPACITY ${key}`, v, 0, min, max);
  };
  const minWorkers = int("min", 0, 1000);
  const maxWorkers = int("max", 1, 1000);
  if (minWorkers === undefined || maxWorkers === undefined) throw new ConfigError(`KILN_CAPACITY needs min and max: ${CAPACITY_FORMAT}`);
  if (minWorkers > maxWorkers) throw new ConfigError(`KILN_CAPACITY: min (${minWorkers}) cannot exceed max (${maxWorkers})`);
  const cooldown = fields.get("cooldown");
  const interval = fields.get("interval");
  const intervalMs = interval === undefined ? DEFAULT_CAPACITY_INTERVAL_MS : parseDuration("KILN_CAPACITY interval", interval);
  if (intervalMs < 100) throw new ConfigError(`KILN_CAPACITY interval must be at least 100ms, got "${interval}"`);
  const step = int("step", 1, 100);
  const memory = int("memory", 128, 16 * 1024 * 1024);
  return {
    provider,
    minWorkers,
    maxWorkers,
    intervalMs,
    ...(cooldown !== undefined ? { coolDownMs: parseDuration("KILN_CAPACITY cooldown", cooldown) } : {}),
    ...(step !== undefined ? { maxStep: step } : {}),
    ...(memory !== undefined ? { workerMemoryMB: memory } : {}),
  };
}

function intFrom(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env, overrides: NodeOverrides = {}): NodeConfig {
  const { roles: rolesOverride, ...rest } = overrides;
  const base = loadServerConfig(env, rest);
  const roles = rolesOverride ? new Set(rolesOverride) : parseRoles(env.KILN_ROLES ?? "all");
  const nats = overrides.nats ?? parseNatsServers(env.KILN_NATS ?? "");
  const clusterSecret = overrides.clusterSecret ?? env.KILN_CLUSTER_SECRET ?? "";
  if (clusterSecret.length < 32) {
    throw new ConfigError("KILN_CLUSTER_SECRET must be set to the same secret of at least 32 characters on every node (e.g. `openssl rand -hex 32`)");
  }
  const workerHost = overrides.workerHost ?? env.KILN_WORKER_HOST ?? base.host;
  const cfg: NodeConfig = {
    ...base,
    nodeId: overrides.nodeId ?? env.KILN_NODE_ID ?? `${hostname()}-${process.pid}`,
    roles,
    nats,
    clusterSecret,
    workerHost,
    workerPort: overrides.workerPort ?? intFrom("KILN_WORKER_PORT", env.KILN_WORKER_PORT, DEFAULT_WORKER_PORT, 0, 65535),
    advertiseHost: overrides.advertiseHost ?? env.KILN_ADVERTISE_HOST ?? (workerHost === "0.0.0.0" || workerHost === "::" ? hostname() : workerHost),
    partitions: overrides.partitions ?? intFrom("KILN_PARTITIONS", env.KILN_PARTITIONS, DEFAULT_PARTITIONS, 1, 1024),
    replicas: overrides.replicas ?? intFrom("KILN_REPLICAS", env.KILN_REPLICAS, Math.min(3, nats.length), 1, 5),
    workerLeaseMs: overrides.workerLeaseMs ?? intFrom("KILN_WORKER_LEASE_MS", env.KILN_WORKER_LEASE_MS, DEFAULT_WORKER_LEASE_MS, 10_000, 7 * 24 * 3600_000),
  };
  const workerMemoryMB = overrides.workerMemoryMB ?? (env.KILN_WORKER_MEMORY_MB ? intFrom("KILN_WORKER_MEMORY_MB", env.KILN_WORKER_MEMORY_MB, 0, 128, 16 * 1024 * 1024) : undefined);
  if (workerMemoryMB !== undefined) cfg.workerMemoryMB = workerMemoryMB;
  const capacity = "capacity" in overrides ? overrides.capacity : parseCapacity(env.KILN_CAPACITY);
  if (capacity) cfg.capacity = capacity;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cfg.nodeId)) throw new ConfigError(`node id "${cfg.nodeId}" may only hold letters, digits, "_" and "-" (at most 64)`);
  return cfg;
}
