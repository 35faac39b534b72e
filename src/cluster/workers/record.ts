/**
 * The heartbeat record a worker node puts in KV `kiln-workers` (key = worker id), and the load
 * placement reads from it. Pure: parsing, validation and the record -> load mapping.
 */
import { functionKeyOf, type WorkerLoad } from "../../placement/index.js";

export const WORKERS_BUCKET = "kiln-workers";

export type WorkerState = "active" | "draining";

export interface WorkerRecord {
  id: string;
  /** Base URL of the worker node's server (http://host:port). */
  url: string;
  roles: string[];
  totalMemoryMB: number;
  freeMemoryMB: number;
  runningSandboxes: number;
  /** Environments running an invocation or being created (the concurrency in use here). Absent from older workers. */
  busy?: number;
  /** Environments created on this worker since it started (cumulative: cold starts placed here). Absent from older workers. */
  environmentsCreated?: number;
  /** Host CPU load, 0..1. */
  cpu: number;
  state: WorkerState;
  /** Execution environments per function configuration key. */
  sandboxes: Record<string, number>;
  startedAt: number;
  leaseEndsAt: number;
  /** The worker's clock when it sent this record (epoch ms). */
  seenAt: number;
}

/** What placement sees of a worker. */
export type ClusterWorkerLoad = WorkerLoad;

export function loadOf(r: WorkerRecord): ClusterWorkerLoad {
  return {
    id: r.id,
    state: r.state,
    totalMemoryMB: r.totalMemoryMB,
    freeMemoryMB: r.freeMemoryMB,
    runningSandboxes: r.runningSandboxes,
    cpu: r.cpu,
    // Workers count environments per function ("<account>/<function>"): placement spreads functions.
    sandboxesOf: (configKey) => r.sandboxes[functionKeyOf(configKey)] ?? 0,
    // Configuration keys start with the account id: "<account>/<function>/...".
    sandboxesOfAccount: (accountId) => Object.entries(r.sandboxes).reduce((n, [k, v]) => (k.startsWith(`${accountId}/`) ? n + v : n), 0),
  };
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The record in `value`, or undefined when it is not a well-formed heartbeat. */
export function parseWorkerRecord(value: unknown): WorkerRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.id !== "string" || typeof r.url !== "string" || (r.state !== "active" && r.state !== "draining")) return undefined;
  for (const k of ["totalMemoryMB", "freeMemoryMB", "runningSandboxes", "cpu", "startedAt", "leaseEndsAt", "seenAt"]) if (!num(r[k])) return undefined;
  const sandboxes: Record<string, number> = {};
  if (typeof r.sandboxes === "object" && r.sandboxes !== null) for (const [k, v] of Object.entries(r.sandboxes)) if (num(v)) sandboxes[k] = v;
  return {
    id: r.id,
    url: r.url,
    roles: Array.isArray(r.roles) ? r.roles.filter((x): x is string => typeof x === "string") : [],
    totalMemoryMB: r.totalMemoryMB as number,
    freeMemoryMB: r.freeMemoryMB as number,
    runningSandboxes: r.runningSandboxes as number,
    ...(num(r.busy) ? { busy: r.busy } : {}),
    ...(num(r.environmentsCreated) ? { environmentsCreated: r.environmentsCreated } : {}),
    cpu: r.cpu as number,
    state: r.state,
    sandboxes,
    startedAt: r.startedAt as number,
    leaseEndsAt: r.leaseEndsAt as number,
    seenAt: r.seenAt as number,
  };
}

/** NATS KV keys allow [-/_=.a-zA-Z0-9]; worker ids are used as keys and in subjects (no dots there). */
export function checkWorkerId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new Error(`invalid worker id ${JSON.stringify(id)}: use letters, digits, '-' and '_' (it is a KV key and a subject token)`);
  return id;
}
