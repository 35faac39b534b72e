/**
 * CORS for function URLs: the decisions, as pure functions over a URL's Cors settings and the
 * request's headers (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors).
 *
 * - With Cors configured, Lambda answers a preflight (OPTIONS with Origin and
 *   Access-Control-Request-Method) itself, without invoking the function: 200, and the allow
 *   headers when the origin and the method are allowed (none otherwise, so the browser refuses).
 * - On other requests from an allowed origin it adds Access-Control-Allow-Origin (and
 *   -Allow-Credentials, -Expose-Headers), replacing any Access-Control-* the function returned.
 * - Without Cors settings, nothing is added or removed and OPTIONS reaches the function.
 *
 *   AllowOrigins ["https://app.example"], AllowMethods ["GET","POST"], MaxAge 600
 *   OPTIONS, Origin https://app.example, Access-Control-Request-Method: POST
 *   -> 200, access-control-allow-origin: https://app.example, -allow-methods: GET,POST, -max-age: 600
 *
 * Known caveats: an allowed wildcard origin is answered `*`, except with AllowCredentials, where
 * browsers refuse `*` and the request's origin is echoed instead (with `vary: origin`).
 */
import type { FunctionUrlCors } from "../control/index.js";

export type HeaderList = Array<[name: string, value: string]>;

const has = (list: string[] | undefined, value: string, caseInsensitive: boolean): boolean =>
  (list ?? []).some((x) => x === "*" || (caseInsensitive ? x.toLowerCase() === value.toLowerCase() : x === value));

export function isPreflight(method: string, headers: Record<string, string | undefined>): boolean {
  return method === "OPTIONS" && headers.origin !== undefined && headers["access-control-request-method"] !== undefined;
}

/** Access-Control-Allow-Origin (+ Vary) for `origin`, or undefined when it is not allowed. */
function allowOrigin(cors: FunctionUrlCors, origin: string | undefined): HeaderList | undefined {
  if (origin === undefined || !has(cors.AllowOrigins, origin, false)) return undefined;
  const exact = (cors.AllowOrigins ?? []).includes(origin);
  if (!exact && !cors.AllowCredentials) return [["access-control-allow-origin", "*"]];
  return [
    ["access-control-allow-origin", origin],
    ["vary", "origin"],
  ];
}

/** The answer to a preflight: always 200 with an empty body; these are its headers. */
export function preflightHeaders(cors: FunctionUrlCors, headers: Record<string, string | undefined>): HeaderList {
  const origin = allowOrigin(cors, headers.origin);
  const method = headers["access-control-request-method"] ?? "";
  if (!origin || !has(cors.AllowMethods, method, true)) return [];
  const out: HeaderList = [...origin, ["access-control-allow-methods", (cors.AllowMethods ?? []).join(",")]];
  if (cors.AllowHeaders !== undefined && cors.AllowHeaders.length > 0) out.push(["access-control-allow-headers", cors.AllowHeaders.join(",")]);
  if (cors.AllowCredentials) out.push(["access-control-allow-credentials", "true"]);
  if (cors.MaxAge !== undefined) out.push(["access-control-max-age", String(cors.MaxAge)]);
  return out;
}

/** The function's headers with CORS applied: its own Access-Control-* replaced by the URL's. */
export function applyCors(cors: FunctionUrlCors, origin: string | undefined, fromFunction: HeaderList): HeaderList {
  const out = fromFunction.filter(([name]) => !name.toLowerCase().startsWith("access-control-"));
  const allowed = allowOrigin(cors, origin);
  if (!allowed) return out;
  out.push(...allowed.filter(([n]) => n !== "vary" || !out.some(([m]) => m.toLowerCase() === "vary")));
  if (cors.AllowCredentials) out.push(["access-control-allow-credentials", "true"]);
  if (cors.ExposeHeaders !== undefined && cors.ExposeHeaders.length > 0) out.push(["access-control-expose-headers", cors.ExposeHeaders.join(",")]);
  return out;
}
