/**
 * The frontend invoke service: resolve (alias weights) -> count -> assign -> invoke on the worker
 * -> release. Owns payload limits, invocation types and the X-Amz-* response facts, and keeps the
 * counting ledger and provisioned environments in step with the control plane's changes.
 */
import { KilnError, conflict, requestId as newRequestId, validation, type Clock, type Logger } from "../base/index.js";
import type { ConcurrencyLedger } from "../counting/index.js";
import { NoCapacityError, ScalingThrottledError, type AssignmentPort, type Lease } from "../assignment/index.js";
import {
  effectiveQualifier,
  parseFunctionRef,
  routesToAdditional,
  type FunctionChange,
  type FunctionRegistry,
  type ResolutionPlan,
  type ResolvedFunction,
} from "../control/index.js";
import type { EnvironmentSpec, InvocationOutcome } from "../worker/index.js";
import { checkAsyncPayload, type AsyncEventSink } from "./event.js";
import { ProvisionedConcurrencyKeeper } from "./provisioned.js";

/** Synchronous request limit (6 MB): https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;
/** Client context limit (base64-decoded JSON). */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;

/** How long an invoke waits for a Pending function to become Active (in steps). */
const PENDING_POLLS = 40;
const PENDING_POLL_MS = 50;

export type InvocationType = "RequestResponse" | "Event" | "DryRun";

export interface InvokeRequest {
  accountId: string;
  functionName: string;
  qualifier?: string;
  invocationType?: string;
  logType?: string;
  clientContext?: string;
  payload: Buffer;
  requestId?: string;
}

export interface InvokeResponse {
  statusCode: 200 | 202 | 204;
  payload: Buffer;
  executedVersion: string;
  functionError?: "Unhandled";
  /** base64 of the last 4 KB of the log, when LogType was Tail. */
  logResult?: string;
  requestId: string;
}

/**
 * Thrown by an InvokeTarget when the invocation never reached the environment (it no longer
 * exists, or its worker refused the connection): the frontend then tries another environment.
 */
export class InvocationNotStartedError extends Error {}

/** Environments tried for one invocation when they turn out to be gone before it starts. */
const MAX_NOT_STARTED_ATTEMPTS = 3;

/** Runs an invocation on the worker that hosts the leased environment. */
export interface InvokeTarget {
  invoke(
    workerId: string,
    environmentId: string,
    inv: { requestId: string; payload: Buffer; invokedArn: string; clientContext?: string; timeoutMs: number },
  ): Promise<InvocationOutcome>;
}

export interface FrontendOptions {
  registry: FunctionRegistry;
  ledger: ConcurrencyLedger;
  assignment: AssignmentPort<EnvironmentSpec>;
  workers: InvokeTarget;
  codeDir(codeSha256: string): string;
  /** SnapStart: host path of a stored snapshot (absent: versions always run init). */
  snapshotBlob?(snapshotId: string): string;
  region: string;
  clock: Clock;
  log: Logger;
  /** Accepts Event invokes (the poller fleet); without it they are refused. */
  events?: AsyncEventSink;
  /** The per-function scaling rate (counting's ScalingLimiter); without one, cold starts are not rate-limited. */
  scaling?: { tryScaleUp(functionKey: string): boolean };
  /**
   * How long a cached resolution plan is trusted (default: until a change event drops it). A
   * cluster sets it: a change event missed on the way from another node then ages out.
   */
  planTtlMs?: number;
  /** Uniform in [0, 1): picks an alias's version by weight (injected for tests). */
  random?: () => number;
}

export class FrontendInvokeService {
  private readonly cache = new Map<string, { plan: ResolutionPlan; at: number }>();
  /** Bumped on every control-plane change: a plan resolved across a change is not cached. */
  private generation = 0;
  /** Keeps provisioned environments initialized; answers their figures for the API. */
  readonly provisioned: ProvisionedConcurrencyKeeper;

  constructor(private readonly opts: FrontendOptions) {
    opts.registry.onChange((c) => this.onChange(c));
    this.provisioned = new ProvisionedConcurrencyKeeper({
      registry: opts.registry,
      assignment: opts.assignment,
      spec: (fn) => this.environmentSpec(fn, "provisioned-concurrency"),
      log: opts.log,
    });
  }

  /** After a restart: the ledger learns every reservation, and provisioned environments come back. */
  async recover(): Promise<void> {
    for (const { accountId, name, allocation } of await this.opts.registry.concurrency.allAllocations()) {
      this.opts.ledger.setAllocation(accountId, `${accountId}/${name}`, allocation);
    }
    await this.provisioned.recover();
  }

  private onChange(c: FunctionChange): void {
    const prefix = `${c.accountId}/${c.name}/`;
    this.generation++;
    for (const k of this.cache.keys()) if (k.startsWith(prefix)) this.cache.delete(k);
    if (c.kind === "concurrency") {
      this.opts.ledger.setAllocation(c.accountId, `${c.accountId}/${c.name}`, { provisioned: c.provisioned, ...(c.reserved !== undefined ? { reserved: c.reserved } : {}) });
    } else if (c.kind === "version-deleted") {
      this.opts.assignment.drain({ prefix: `${prefix}${c.version}/` });
    } else if (c.kind === "deleted") {
      this.opts.ledger.setAllocation(c.accountId, `${c.accountId}/${c.name}`, undefined);
      this.opts.assignment.drain({ prefix });
    } else if (c.kind === "updated") {
      // $LATEST changed: its older environments finish what they run and are never used again.
      // Published versions never change, so their environments stay warm.
      const latest = `${prefix}$LATEST/`;
      void this.opts.registry
        .resolve(c.accountId, { name: c.name })
        .then((r) => r.configKey)
        .catch(() => undefined)
        .then((current) => this.opts.assignment.drain({ prefix: latest, ...(current !== undefined ? { except: current } : {}) }));
    }
  }

  /** What a worker needs to create an environment for one resolved function version. */
  environmentSpec(fn: ResolvedFunction, initializationType: EnvironmentSpec["initializationType"] = "on-demand"): EnvironmentSpec {
    const rec = fn.record;
    return {
      accountId: rec.accountId,
      functionName: rec.name,
      version: fn.executedVersion,
      runtime: rec.runtime,
      handler: rec.handler,
      codeSha256: rec.codeSha256,
      codeDir: this.opts.codeDir(rec.codeSha256),
      layerSha256s: (rec.layers ?? []).map((l) => l.codeSha256),
      layerDirs: (rec.layers ?? []).map((l) => this.opts.codeDir(l.codeSha256)),
      memoryMB: rec.memorySize,
      environment: rec.environment,
      logGroup: rec.logGroup,
      region: this.opts.region,
      ...(initializationType === "provisioned-concurrency" ? { initializationType } : {}),
      ...(rec.snapStartStatus?.snapshotId !== undefined && this.opts.snapshotBlob
        ? { snapshot: { id: rec.snapStartStatus.snapshotId, blob: this.opts.snapshotBlob(rec.snapStartStatus.snapshotId) } }
        : {}),
    };
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const requestId = req.requestId ?? newRequestId();
    const type = parseInvocationType(req.invocationType);
    const tail = parseLogType(req.logType);
    if (type === "Event") checkAsyncPayload(req.payload);
    if (req.payload.length > MAX_SYNC_PAYLOAD_BYTES) {
      throw new KilnError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    const fn = await this.resolve(req.accountId, req.functionName, req.qualifier);
    if (type === "Event" && !this.opts.events) {
      throw new KilnError("InvalidParameterValueException", "Asynchronous invocation (InvocationType Event) is not supported by this Kiln server yet: use RequestResponse.");
    }
    const payload = normalizePayload(req.payload);
    if (type === "Event") {
      const qualifier = effectiveQualifier(parseFunctionRef(req.functionName), req.qualifier);
      await this.opts.events!.accept({ requestId, accountId: req.accountId, functionName: fn.record.name, payload, ...(qualifier !== undefined ? { qualifier } : {}) });
      return { statusCode: 202, payload: Buffer.alloc(0), executedVersion: fn.executedVersion, requestId };
    }
    const clientContext = decodeClientContext(req.clientContext);
    if (type === "DryRun") return { statusCode: 204, payload: Buffer.alloc(0), executedVersion: fn.executedVersion, requestId };

    const rec = fn.record;
    const functionKey = `${req.accountId}/${rec.name}`;
    const admission = this.opts.ledger.tryAcquire(req.accountId, functionKey);
    if ("reason" in admission) {
      throw new KilnError("TooManyRequestsException", "Rate Exceeded.", { fields: { Reason: admission.reason } });
    }
    try {
      let lease: Lease;
      let outcome: InvocationOutcome;
      for (let attempt = 1; ; attempt++) {
        lease = await this.acquire(fn, functionKey);
        try {
          outcome = await this.opts.workers.invoke(lease.workerId, lease.environmentId, {
            requestId,
            payload,
            invokedArn: fn.invokedArn,
            timeoutMs: rec.timeout * 1000,
            ...(clientContext !== undefined ? { clientContext } : {}),
          });
          break;
        } catch (e) {
          this.opts.assignment.release(lease, false);
          // The environment was gone before the invocation reached it (its worker died or
          // dropped it): nothing ran, so another environment may take the request.
          if (e instanceof InvocationNotStartedError && attempt < MAX_NOT_STARTED_ATTEMPTS) continue;
          throw new KilnError("ServiceException", `Kiln lost the execution environment: ${(e as Error).message}`, { cause: e });
        }
      }
      this.opts.assignment.release(lease, outcome.healthy);
      const res: InvokeResponse = { statusCode: 200, payload: outcome.payload, executedVersion: fn.executedVersion, requestId };
      if (outcome.functionError) res.functionError = outcome.functionError;
      if (tail) res.logResult = outcome.logTail.toString("base64");
      return res;
    } finally {
      this.opts.ledger.release(admission.slot);
    }
  }

  private acquire(fn: ResolvedFunction, functionKey: string): Promise<Lease> {
    return this.opts.assignment
      .acquire(
        fn.configKey,
        fn.record.memorySize,
        () => this.environmentSpec(fn),
        () => this.opts.scaling?.tryScaleUp(functionKey) ?? true,
      )
      .catch((e: unknown) => {
        if (e instanceof NoCapacityError || e instanceof ScalingThrottledError) {
          throw new KilnError("TooManyRequestsException", "Rate Exceeded.", { fields: { Reason: "ConcurrentInvocationLimitExceeded" }, cause: e });
        }
        throw new KilnError("ServiceException", `Kiln could not start an execution environment: ${(e as Error).message}`, { cause: e });
      });
  }

  /** The version this invoke runs: resolution plans are cached; an alias's weights are drawn per invoke. */
  private async resolve(accountId: string, functionName: string, qualifierParam: string | undefined): Promise<ResolvedFunction> {
    const ref = parseFunctionRef(functionName);
    const qualifier = effectiveQualifier(ref, qualifierParam);
    const key = `${accountId}/${ref.name}/${qualifier ?? ""}/${ref.accountId ?? ""}/${ref.region ?? ""}`;
    const now = this.opts.clock.monotonic();
    const cached = this.cache.get(key);
    let plan = cached && (this.opts.planTtlMs === undefined || now - cached.at < this.opts.planTtlMs) ? cached.plan : undefined;
    if (!plan) {
      const generation = this.generation;
      plan = await this.opts.registry.resolvePlan(accountId, ref, qualifier);
      // Kiln finishes creating a function in milliseconds; waiting here spares scripts that
      // invoke right after CreateFunction the 409 that AWS would answer. In a cluster the
      // activation may run on another node: look again for a short while.
      for (let i = 0; plan.primary.record.state === "Pending" && i < PENDING_POLLS; i++) {
        await (i === 0 ? this.opts.registry.settled() : new Promise((r) => setTimeout(r, PENDING_POLL_MS)));
        plan = await this.opts.registry.resolvePlan(accountId, ref, qualifier);
      }
      if (plan.primary.record.state === "Active" && generation === this.generation) this.cache.set(key, { plan, at: now });
    }
    const fn = plan.additional && routesToAdditional(plan.additional.weight, this.opts.random ?? Math.random) ? plan.additional.fn : plan.primary;
    if (fn.record.state !== "Active") {
      throw conflict(`The operation cannot be performed at this time. The function is currently in the following state: ${fn.record.state}`);
    }
    return fn;
  }
}

function parseInvocationType(v: string | undefined): InvocationType {
  if (v === undefined || v === "") return "RequestResponse";
  if (v === "RequestResponse" || v === "Event" || v === "DryRun") return v;
  throw validation(`1 validation error detected: Value '${v}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
}

function parseLogType(v: string | undefined): boolean {
  if (v === undefined || v === "" || v === "None") return false;
  if (v === "Tail") return true;
  throw validation(`1 validation error detected: Value '${v}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`);
}

/** Lambda accepts only JSON payloads; an empty body is the empty object. */
export function normalizePayload(payload: Buffer): Buffer {
  if (payload.length === 0) return Buffer.from("{}");
  const text = new TextDecoder("utf-8", { fatal: true });
  let s: string;
  try {
    s = text.decode(payload);
  } catch {
    throw new KilnError("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 start byte");
  }
  try {
    JSON.parse(s);
  } catch (e) {
    throw new KilnError("InvalidRequestContentException", `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}`);
  }
  return payload;
}

function decodeClientContext(v: string | undefined): string | undefined {
  if (v === undefined || v === "") return undefined;
  const decoded = Buffer.from(v, "base64");
  if (decoded.length > MAX_CLIENT_CONTEXT_BYTES) throw new KilnError("InvalidParameterValueException", `Client context must be smaller than ${MAX_CLIENT_CONTEXT_BYTES} bytes.`);
  const text = decoded.toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    throw new KilnError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.");
  }
  return text;
}
