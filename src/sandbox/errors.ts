/**
 * Sandbox errors. Every one is a system fault (a `ServiceException` on the wire, never the user's
 * doing); `reason` says which failure mode, `cause` carries the underlying error.
 */
import { KilnError } from "../base/index.js";

export type SandboxFailure =
  /** The runtime process could not be started (binary missing, bwrap refused, ...). */
  | "spawn-failed"
  /** A call arrived after destroy(). */
  | "destroyed"
  /** The runtime process tree did not die after SIGKILL within the deadline. */
  | "kill-timeout"
  /** The memory cgroup could not be created, configured or removed. */
  | "cgroup"
  /** The driver was asked for something its configuration cannot do (e.g. a runtime without runtimesDir). */
  | "misconfigured"
  /** specialize() on a pre-initialized sandbox that already belongs to a function. */
  | "specialized";

export class SandboxError extends KilnError {
  readonly reason: SandboxFailure;
  readonly sandboxId: string;

  constructor(reason: SandboxFailure, sandboxId: string, message: string, cause?: unknown) {
    super("ServiceException", `sandbox ${sandboxId}: ${message}`, { kind: "Service", cause });
    this.reason = reason;
    this.sandboxId = sandboxId;
  }
}

export const isSandboxError = (e: unknown, reason?: SandboxFailure): e is SandboxError =>
  e instanceof SandboxError && (reason === undefined || e.reason === reason);
