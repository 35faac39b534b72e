/**
 * Reserved concurrency (Put/Get/DeleteFunctionConcurrency) and provisioned concurrency
 * (Put/Get/Delete/ListProvisionedConcurrencyConfigs). Allocation figures come from whoever keeps
 * the provisioned environments (the frontend's keeper over assignment).
 */
import { invalidParameter, lambdaTimestamp } from "../../base/index.js";
import { effectiveQualifier, functionArn, parseFunctionRef, type FunctionRegistry, type ProvisionedConfigRecord } from "../../control/index.js";
import { jsonBody, type Handler, type RequestContext } from "../http.js";
import { functionOf, maxItems, requiredInt } from "./params.js";

export type ProvisionedStatus = "IN_PROGRESS" | "READY" | "FAILED";

/** Live figures of a provisioned concurrency configuration. */
export interface ProvisionedStatusSource {
  status(accountId: string, functionName: string, qualifier: string): { allocated: number; status: ProvisionedStatus; reason?: string };
}

type ConcurrencyOperation =
  | "putFunctionConcurrency"
  | "getFunctionConcurrency"
  | "deleteFunctionConcurrency"
  | "putProvisioned"
  | "getOrListProvisioned"
  | "deleteProvisioned";

const QUALIFIED =
  "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.";

/** Reserved concurrency is function-level: a qualified name is refused. */
function unqualified(ctx: RequestContext) {
  const ref = parseFunctionRef(ctx.params.fn ?? "");
  if (ref.qualifier !== undefined) throw invalidParameter(QUALIFIED);
  return ref;
}

/** Provisioned concurrency takes its qualifier from ?Qualifier= or the name (they must agree). */
function qualified(ctx: RequestContext) {
  const parsed = parseFunctionRef(ctx.params.fn ?? "");
  const qualifier = effectiveQualifier(parsed, ctx.query.get("Qualifier") ?? undefined);
  const { qualifier: _q, ...ref } = parsed;
  return { ref, qualifier };
}

export function concurrencyRoutes(d: { registry: FunctionRegistry; region: string; provisioned: ProvisionedStatusSource }): Record<ConcurrencyOperation, Handler> {
  const c = d.registry.concurrency;
  const figures = (rec: ProvisionedConfigRecord) => {
    const live = d.provisioned.status(rec.accountId, rec.functionName, rec.qualifier);
    const out: Record<string, unknown> = {
      RequestedProvisionedConcurrentExecutions: rec.requested,
      AvailableProvisionedConcurrentExecutions: live.allocated,
      AllocatedProvisionedConcurrentExecutions: live.allocated,
      Status: live.status,
      LastModified: lambdaTimestamp(rec.lastModified),
    };
    if (live.reason !== undefined) out.StatusReason = live.reason;
    return out;
  };
  return {
    putFunctionConcurrency: async (ctx) => {
      const ref = unqualified(ctx);
      const requested = requiredInt(jsonBody(ctx), "ReservedConcurrentExecutions", "reservedConcurrentExecutions", 0);
      return { status: 200, json: { ReservedConcurrentExecutions: await c.putReserved(ctx.account.accountId, ref, requested) } };
    },
    getFunctionConcurrency: async (ctx) => {
      const reserved = await c.reserved(ctx.account.accountId, unqualified(ctx));
      return { status: 200, json: reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved } };
    },
    deleteFunctionConcurrency: async (ctx) => {
      await c.deleteReserved(ctx.account.accountId, unqualified(ctx));
      return { status: 204 };
    },
    putProvisioned: async (ctx) => {
      const { ref, qualifier } = qualified(ctx);
      const requested = requiredInt(jsonBody(ctx), "ProvisionedConcurrentExecutions", "provisionedConcurrentExecutions", 1);
      return { status: 202, json: figures(await c.putProvisioned(ctx.account.accountId, ref, qualifier, requested)) };
    },
    getOrListProvisioned: async (ctx) => {
      if (ctx.query.get("List") === null) {
        const { ref, qualifier } = qualified(ctx);
        return { status: 200, json: figures(await c.getProvisioned(ctx.account.accountId, ref, qualifier)) };
      }
      const ref = functionOf(ctx);
      await d.registry.load(ctx.account.accountId, ref);
      const all = await c.listProvisioned(ctx.account.accountId, ref.name);
      const marker = ctx.query.get("Marker");
      const start = marker ? all.findIndex((x) => x.qualifier > Buffer.from(marker, "base64url").toString()) : 0;
      const max = maxItems(ctx);
      const page = all.slice(start < 0 ? all.length : start, (start < 0 ? all.length : start) + max);
      const out: Record<string, unknown> = {
        ProvisionedConcurrencyConfigs: page.map((x) => ({ FunctionArn: functionArn(d.region, x.accountId, x.functionName, x.qualifier), ...figures(x) })),
      };
      const last = page[page.length - 1];
      if (last && last !== all[all.length - 1]) out.NextMarker = Buffer.from(last.qualifier).toString("base64url");
      return { status: 200, json: out };
    },
    deleteProvisioned: async (ctx) => {
      const { ref, qualifier } = qualified(ctx);
      await c.deleteProvisioned(ctx.account.accountId, ref, qualifier);
      return { status: 204 };
    },
  };
}
