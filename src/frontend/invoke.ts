/**
 * The frontend invoke service: resolve -> count -> assign -> invoke on the worker -> release.
 * Owns payload limits, invocation types and the X-Amz-* response facts.
 */
import { KilnError, conflict, requestId as newRequestId, validation, type Clock, type Logger } from "../base/index.js";
import type { ConcurrencyLedger } from "../counting/index.js";
import { NoCapacityError, type AssignmentService } from "../assignment/index.js";
import { effectiveQualifier, parseFunctionRef, type FunctionRegistry, type ResolvedFunction } from "../control/index.js";
import type { EnvironmentSpec, InvocationOutcome } from "../worker/index.js";

/** Synchronous request limit (6 MB): https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;
/** Client context limit (base64-decoded JSON). */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;

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
  assignment: AssignmentService<EnvironmentSpec>;
  workers: InvokeTarget;
  codeDir(codeSha256: string): string;
  region: string;
  clock: Clock;
  log: Logger;
}

export class FrontendInvokeService {
  private readonly cache = new Map<string, ResolvedFunction>();

  constructor(private readonly opts: FrontendOptions) {
    opts.registry.onChange((c) => {
      const prefix = `${c.accountId}/${c.name}/`;
      for (const k of this.cache.keys()) if (k.startsWith(prefix)) this.cache.delete(k);
      // Environments of an older configuration finish what they run and are never used again.
      void this.opts.registry
        .resolve(c.accountId, { name: c.name })
        .then((r) => r.configKey)
        .catch(() => undefined)
        .then((current) => this.opts.assignment.drain((k) => k.startsWith(prefix) && k !== current));
    });
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const requestId = req.requestId ?? newRequestId();
    const type = parseInvocationType(req.invocationType);
    const tail = parseLogType(req.logType);
    if (req.payload.length > MAX_SYNC_PAYLOAD_BYTES) {
      throw new KilnError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    const fn = await this.resolve(req.accountId, req.functionName, req.qualifier);
    if (type === "Event") {
      throw new KilnError("InvalidParameterValueException", "Asynchronous invocation (InvocationType Event) is not supported by this Kiln server yet: use RequestResponse.");
    }
    const payload = normalizePayload(req.payload);
    const clientContext = decodeClientContext(req.clientContext);
    if (type === "DryRun") return { statusCode: 204, payload: Buffer.alloc(0), executedVersion: fn.executedVersion, requestId };

    const rec = fn.record;
    const admission = this.opts.ledger.tryAcquire(req.accountId, `${req.accountId}/${rec.name}`);
    if ("reason" in admission) {
      throw new KilnError("TooManyRequestsException", "Rate Exceeded.", { fields: { Reason: admission.reason } });
    }
    try {
      const lease = await this.opts.assignment
        .acquire(fn.configKey, rec.memorySize, () => ({
          accountId: req.accountId,
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
        }))
        .catch((e: unknown) => {
          if (e instanceof NoCapacityError) throw new KilnError("TooManyRequestsException", "Rate Exceeded.", { fields: { Reason: "ConcurrentInvocationLimitExceeded" }, cause: e });
          throw new KilnError("ServiceException", `Kiln could not start an execution environment: ${(e as Error).message}`, { cause: e });
        });
      let outcome: InvocationOutcome;
      try {
        outcome = await this.opts.workers.invoke(lease.workerId, lease.environmentId, {
          requestId,
          payload,
          invokedArn: fn.invokedArn,
          timeoutMs: rec.timeout * 1000,
          ...(clientContext !== undefined ? { clientContext } : {}),
        });
      } catch (e) {
        this.opts.assignment.release(lease, false);
        throw new KilnError("ServiceException", `Kiln lost the execution environment: ${(e as Error).message}`, { cause: e });
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

  private async resolve(accountId: string, functionName: string, qualifierParam: string | undefined): Promise<ResolvedFunction> {
    const ref = parseFunctionRef(functionName);
    const qualifier = effectiveQualifier(ref, qualifierParam);
    const key = `${accountId}/${ref.name}/${qualifier ?? ""}/${ref.accountId ?? ""}/${ref.region ?? ""}`;
    let fn = this.cache.get(key);
    if (!fn) {
      fn = await this.opts.registry.resolve(accountId, ref, qualifier);
      if (fn.record.state === "Pending") {
        // Kiln finishes creating a function in milliseconds; waiting here spares scripts that
        // invoke right after CreateFunction the 409 that AWS would answer.
        await this.opts.registry.settled();
        fn = await this.opts.registry.resolve(accountId, ref, qualifier);
      }
      if (fn.record.state === "Active") this.cache.set(key, fn);
    }
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
