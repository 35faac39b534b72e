/**
 * Pure validation of the function URL APIs' input (Create/Update/Get/Delete/ListFunctionUrlConfigs)
 * with AWS's codes and messages: the qualifier (an alias or nothing: never `$LATEST` spelled out,
 * never a version number), AuthType, InvokeMode and the Cors structure's model constraints.
 */
import { KilnError, invalidParameter, validation } from "../base/index.js";
import type { FunctionUrlAuthType, FunctionUrlCors } from "./types.js";

/** Cors limits of the Lambda API model. */
export const CORS_LIST_MAX = 100;
export const CORS_METHODS_MAX = 6;
export const CORS_METHOD_MAX_LENGTH = 6;
export const CORS_HEADER_MAX_LENGTH = 1024;
export const CORS_ORIGIN_MAX_LENGTH = 253;
export const CORS_MAX_AGE_MAX = 86_400;
export const URL_LIST_MAX_ITEMS = 50;

/** The qualifier under which an unqualified function's URL is kept. */
export const UNQUALIFIED = "$LATEST";

export interface FunctionUrlInput {
  authType?: FunctionUrlAuthType;
  cors?: FunctionUrlCors;
  invokeMode?: "BUFFERED" | "RESPONSE_STREAM";
}

type Json = Record<string, unknown>;

const one = (value: string, field: string, rule: string): KilnError =>
  validation(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${rule}`);
const listText = (v: unknown[]): string => `[${v.map(String).join(", ")}]`;

/**
 * The URL's qualifier: `$LATEST` for none, else an alias name. AWS refuses `$LATEST` spelled out and
 * version numbers ("URL on a version number") with a ValidationException.
 */
export function validateUrlQualifier(q: string | undefined): string {
  if (q === undefined || q === "") return UNQUALIFIED;
  if (q === "$LATEST") throw one(q, "qualifier", "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
  if (/^[0-9]+$/.test(q) || !/^[a-zA-Z0-9-_]{1,128}$/.test(q)) {
    throw one(q, "qualifier", "Member must satisfy regular expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))");
  }
  return q;
}

function stringList(cors: Json, key: string, field: string, maxItems: number, maxLength: number, minLength = 0): string[] | undefined {
  const v = cors[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw invalidParameter(`Invalid type for parameter Cors.${key}, valid types: list of strings`);
  const list = v as string[];
  if (list.length > maxItems) throw one(listText(list), field, `Member must have length less than or equal to ${maxItems}`);
  if (list.some((s) => s.length > maxLength || s.length < minLength)) {
    const rules = [`Member must have length less than or equal to ${maxLength}`];
    if (minLength > 0) rules.push(`Member must have length greater than or equal to ${minLength}`);
    throw one(listText(list), field, `Member must satisfy constraint: [${rules.join(", ")}, Member must satisfy regular expression pattern: .*]`);
  }
  return list;
}

export function validateCors(v: unknown): FunctionUrlCors | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter("Invalid type for parameter Cors, valid types: structure");
  const c = v as Json;
  const out: FunctionUrlCors = {};
  if (c.AllowCredentials !== undefined && c.AllowCredentials !== null) {
    if (typeof c.AllowCredentials !== "boolean") throw invalidParameter("Invalid type for parameter Cors.AllowCredentials, valid types: boolean");
    out.AllowCredentials = c.AllowCredentials;
  }
  const headers = stringList(c, "AllowHeaders", "cors.allowHeaders", CORS_LIST_MAX, CORS_HEADER_MAX_LENGTH);
  if (headers !== undefined) out.AllowHeaders = headers;
  const methods = stringList(c, "AllowMethods", "cors.allowMethods", CORS_METHODS_MAX, CORS_METHOD_MAX_LENGTH);
  if (methods !== undefined) out.AllowMethods = methods;
  const origins = stringList(c, "AllowOrigins", "cors.allowOrigins", CORS_LIST_MAX, CORS_ORIGIN_MAX_LENGTH, 1);
  if (origins !== undefined) out.AllowOrigins = origins;
  const expose = stringList(c, "ExposeHeaders", "cors.exposeHeaders", CORS_LIST_MAX, CORS_HEADER_MAX_LENGTH);
  if (expose !== undefined) out.ExposeHeaders = expose;
  if (c.MaxAge !== undefined && c.MaxAge !== null) {
    if (typeof c.MaxAge !== "number" || !Number.isInteger(c.MaxAge)) throw invalidParameter(`Invalid type for parameter Cors.MaxAge, value: ${JSON.stringify(c.MaxAge)}, valid types: integer`);
    if (c.MaxAge < 0) throw one(String(c.MaxAge), "cors.maxAge", "Member must have value greater than or equal to 0");
    if (c.MaxAge > CORS_MAX_AGE_MAX) throw one(String(c.MaxAge), "cors.maxAge", `Member must have value less than or equal to ${CORS_MAX_AGE_MAX}`);
    out.MaxAge = c.MaxAge;
  }
  return out;
}

/** The body of CreateFunctionUrlConfig (`create`: AuthType required) or UpdateFunctionUrlConfig. */
export function validateFunctionUrlInput(body: Json, opts: { create: boolean }): FunctionUrlInput {
  const out: FunctionUrlInput = {};
  const auth = body.AuthType;
  if (auth === undefined || auth === null) {
    if (opts.create) throw validation("1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null");
  } else if (auth !== "NONE" && auth !== "AWS_IAM") {
    throw one(typeof auth === "string" ? auth : JSON.stringify(auth), "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]");
  } else out.authType = auth;
  const mode = body.InvokeMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== "BUFFERED" && mode !== "RESPONSE_STREAM") {
      throw one(typeof mode === "string" ? mode : JSON.stringify(mode), "invokeMode", "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]");
    }
    if (mode === "RESPONSE_STREAM") throw invalidParameter("InvokeMode RESPONSE_STREAM is not supported by this Kiln server yet: use BUFFERED.");
    out.invokeMode = mode;
  }
  const cors = validateCors(body.Cors);
  if (cors !== undefined) out.cors = cors;
  return out;
}

export function validateUrlListMaxItems(raw: string | null): number {
  if (raw === null) return URL_LIST_MAX_ITEMS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw one(raw, "maxItems", "Member must have value greater than or equal to 1");
  if (n > URL_LIST_MAX_ITEMS) throw one(raw, "maxItems", `Member must have value less than or equal to ${URL_LIST_MAX_ITEMS}`);
  return n;
}
