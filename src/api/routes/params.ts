/** Request parameters the release operations share: MaxItems, the function named in the path, typed body members. */
import { KilnError, invalidParameter } from "../../base/index.js";
import { LIST_MAX_ITEMS, parseFunctionRef, type FunctionRef } from "../../control/index.js";
import type { RequestContext } from "../http.js";

/** `?MaxItems=`: 1-10,000, default and cap 50 (Lambda's page size). */
export function maxItems(ctx: RequestContext): number {
  const raw = ctx.query.get("MaxItems");
  if (raw === null) return LIST_MAX_ITEMS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) {
    throw new KilnError("ValidationException", `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`);
  }
  return Math.min(n, LIST_MAX_ITEMS);
}

/** The function of a function-level operation; a qualifier in the name is ignored there, as on AWS. */
export const functionOf = (ctx: RequestContext): FunctionRef => {
  const { qualifier: _q, ...ref } = parseFunctionRef(ctx.params.fn ?? "");
  return ref;
};

/** An optional string member of a JSON body. */
export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidParameter(`Invalid type for parameter ${key}, value: ${JSON.stringify(v)}, type: ${typeof v}, valid types: string`);
  return v;
}

/** A required integer member, with AWS's ValidationException for null and below `min`. */
export function requiredInt(body: Record<string, unknown>, key: string, field: string, min: number): number {
  const v = body[key];
  if (v === undefined || v === null) throw new KilnError("ValidationException", `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidParameter(`Invalid type for parameter ${key}, value: ${JSON.stringify(v)}, valid types: integer`);
  if (v < min) throw new KilnError("ValidationException", `1 validation error detected: Value '${v}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  return v;
}
