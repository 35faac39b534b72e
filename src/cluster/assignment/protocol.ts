/**
 * The partition RPC: core NATS request/reply on `kiln.assign.rpc.<partition>`, JSON both ways.
 * Only the partition's leader subscribes (queue group `kiln-assign`, so during a split-brain
 * window one of them answers each request, not both).
 *
 * Requests: acquire (warm only, or a cold start carrying the spec), release, drain,
 * setProvisioned, provisionedStatus. Replies: `{ ok: true, result }` or `{ ok: false, error }`,
 * where error keeps the class name so the client rebuilds NoCapacityError and
 * ScalingThrottledError, and `NotLeader` tells it to retry elsewhere/later.
 */
import { NoCapacityError, ScalingThrottledError, type DrainScope, type Lease, type ProvisionedFigures } from "../../assignment/index.js";
import type { JournaledTarget } from "./journal.js";

export const rpcSubject = (partition: number): string => `kiln.assign.rpc.${partition}`;
export const RPC_QUEUE = "kiln-assign";

export type AssignRequest<Spec> =
  | { op: "acquire"; configKey: string; memoryMB: number; warmOnly: true }
  | { op: "acquire"; configKey: string; memoryMB: number; warmOnly: false; spec: Spec }
  | { op: "release"; lease: Lease; healthy: boolean }
  | { op: "drain"; scope: DrainScope }
  | { op: "setProvisioned"; configKey: string; target: JournaledTarget<Spec> | null }
  | { op: "provisionedStatus"; configKeys: string[] }
  | { op: "ping" };

export interface WireError {
  name: string;
  message: string;
  memoryMB?: number;
  configKey?: string;
}

/** Every reply carries the answering leader's term (a client notices a takeover by it). */
export type AssignReply = ({ ok: true; result?: unknown } | { ok: false; error: WireError }) & { term?: number };

/** Answered by a node that no longer leads the partition: the client retries. */
export class NotLeaderError extends Error {
  override readonly name = "NotLeader";
  constructor(readonly partition: number) {
    super(`this node does not lead assignment partition ${partition}`);
  }
}

export function toWireError(e: unknown): WireError {
  if (e instanceof NoCapacityError) return { name: "NoCapacityError", message: e.message, memoryMB: e.memoryMB };
  if (e instanceof ScalingThrottledError) return { name: "ScalingThrottledError", message: e.message, configKey: e.configKey };
  if (e instanceof NotLeaderError) return { name: e.name, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name || "Error", message: err.message };
}

/** The error a client throws for a wire error (the assignment classes by name, else a plain Error). */
export function fromWireError(w: WireError): Error {
  if (w.name === "NoCapacityError") return new NoCapacityError(w.memoryMB ?? 0);
  if (w.name === "ScalingThrottledError") return new ScalingThrottledError(w.configKey ?? "");
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

export type StatusReply = Record<string, ProvisionedFigures>;
