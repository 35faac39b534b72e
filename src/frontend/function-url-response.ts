/**
 * A function's result as the HTTP response of its function URL (payload format 2.0). Pure.
 *
 * - A JSON object with a `statusCode` is a structured response: statusCode, headers, cookies (each
 *   becomes a Set-Cookie header), body, isBase64Encoded (the body is decoded before it is sent).
 * - Anything else is the shortcut: 200, `content-type: application/json`, and the result as the
 *   body (a JSON string result is sent as its text: `"Hello"` -> `Hello`).
 * - A function error (X-Amz-Function-Error) or a malformed structured response is a 502 with
 *   `Internal Server Error`, as AWS answers.
 *
 *   { "statusCode": 201, "headers": { "x-a": "1" }, "cookies": ["s=1"], "body": "made" }
 *   -> 201, x-a: 1, set-cookie: s=1, body "made"
 */

export interface UrlResponse {
  statusCode: number;
  /** In order; a name may repeat (set-cookie). */
  headers: Array<[name: string, value: string]>;
  body: Buffer;
}

export const BAD_GATEWAY: UrlResponse = {
  statusCode: 502,
  headers: [["content-type", "application/json"]],
  body: Buffer.from('{"Message":"Internal Server Error"}'),
};

const scalar = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

export function toUrlResponse(payload: Buffer, functionError: string | undefined): UrlResponse {
  if (functionError !== undefined) return BAD_GATEWAY;
  const text = payload.toString("utf8");
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch {
    return BAD_GATEWAY;
  }
  if (typeof result !== "object" || result === null || Array.isArray(result) || !("statusCode" in result)) {
    const body = typeof result === "string" ? result : text;
    return { statusCode: 200, headers: [["content-type", "application/json"]], body: Buffer.from(body) };
  }
  const r = result as Record<string, unknown>;
  const status = typeof r.statusCode === "string" && /^\d+$/.test(r.statusCode) ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) return BAD_GATEWAY;
  const headers: Array<[string, string]> = [];
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== "object" || Array.isArray(r.headers)) return BAD_GATEWAY;
    for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      headers.push([k.toLowerCase(), scalar(v)]);
    }
  }
  if (r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies)) return BAD_GATEWAY;
    for (const c of r.cookies) headers.push(["set-cookie", scalar(c)]);
  }
  let body = Buffer.alloc(0);
  if (r.body !== undefined && r.body !== null) {
    const s = scalar(r.body);
    body = r.isBase64Encoded === true ? Buffer.from(s, "base64") : Buffer.from(s);
  }
  return { statusCode: status, headers, body };
}
