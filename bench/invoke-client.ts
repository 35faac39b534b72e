/**
 * One signed Invoke over node:http, timed from the request to the last byte of the answer, with
 * the REPORT line's figures when the request asked for the log tail. Never throws: a connection
 * error comes back as status 0 with `error` set.
 */
import http from "node:http";
import type { InvokeSigner } from "./sigv4.js";

export interface InvokeAnswer {
  status: number;
  /** Client-observed time, ms. */
  ms: number;
  body: string;
  /** Flat [name, value, ...] as received. */
  rawHeaders: string[];
  functionError: string | undefined;
  /** From REPORT (X-Amz-Log-Result), when present. */
  initDurationMs: number | undefined;
  durationMs: number | undefined;
  error?: string;
}

/** A served answer: 2xx, no function error, the handler's body. */
export const served = (a: InvokeAnswer): boolean => a.status >= 200 && a.status < 300 && a.functionError === undefined && /"ok":\s*true/.test(a.body);

/** The environment id the bench handler put in its answer. */
export const environmentOf = (a: InvokeAnswer): string | undefined => /"environment":\s*"([^"]+)"/.exec(a.body)?.[1];

export function invokeOnce(agent: http.Agent, baseUrl: string, signer: InvokeSigner, timeoutMs = 60_000): Promise<InvokeAnswer> {
  const url = new URL(baseUrl);
  const signed = signer.sign();
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (error: string): void =>
      resolve({ status: 0, ms: performance.now() - started, body: "", rawHeaders: [], functionError: undefined, initDurationMs: undefined, durationMs: undefined, error });
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: signed.method, path: signed.path, headers: signed.headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => fail(e.message));
        res.on("end", () => {
          const ms = performance.now() - started;
          const log = typeof res.headers["x-amz-log-result"] === "string" ? Buffer.from(res.headers["x-amz-log-result"], "base64").toString() : "";
          const figure = (name: string): number | undefined => {
            const m = new RegExp(`${name}: ([\\d.]+) ms`).exec(log);
            return m ? Number(m[1]) : undefined;
          };
          const fe = res.headers["x-amz-function-error"];
          resolve({
            status: res.statusCode ?? 0,
            ms,
            body: Buffer.concat(chunks).toString(),
            rawHeaders: res.rawHeaders,
            functionError: typeof fe === "string" ? fe : undefined,
            initDurationMs: figure("Init Duration"),
            durationMs: figure("\tDuration"),
          });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => fail(e.message));
    req.end(signed.body);
  });
}
