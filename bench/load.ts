/**
 * Closed-loop HTTP load with autocannon: N keep-alive connections, each sending the next signed
 * Invoke as soon as the previous answer arrived. Latencies come from autocannon's per-response
 * event in fractional milliseconds (its own histogram rounds to whole ms, too coarse at
 * concurrency 1); only 2xx answers with the expected body count as served.
 */
import autocannon from "autocannon";
import type { InvokeSigner } from "./sigv4.js";
import { percentiles, type Percentiles } from "./stats.js";

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:9900 */
  url: string;
  signer: InvokeSigner;
  connections: number;
  durationS: number;
  /** A served answer's body contains this (default: the bench handler's `"ok":true`). */
  expectInBody?: string;
}

export interface LoadResult {
  /** Served (2xx, expected body) answers per second. */
  rps: number;
  /** Latency of served answers, ms. */
  latency: Percentiles;
  served: number;
  /** Non-2xx answers, connection errors, timeouts and unexpected bodies. */
  failed: number;
  durationS: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const expect = o.expectInBody ?? '"ok":true';
  const latencies: number[] = [];
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.durationS,
        pipelining: 1,
        timeout: 30,
        method: "POST",
        verifyBody: (body) => String(body ?? "").includes(expect),
        requests: [
          {
            method: "POST",
            path: o.signer.path,
            setupRequest: (req) => {
              const signed = o.signer.sign();
              // autocannon writes Content-Length itself; a second one would make the request invalid.
              const { "content-length": _length, ...headers } = signed.headers;
              return { ...req, method: "POST", path: signed.path, headers, body: signed.body };
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const durationS = result.duration > 0 ? result.duration : (performance.now() - started) / 1000;
  const failed = result.non2xx + result.errors + result.timeouts + result.mismatches;
  const served = Math.max(0, latencies.length - result.mismatches);
  return { rps: served / durationS, latency: percentiles(latencies), served, failed, durationS };
}
