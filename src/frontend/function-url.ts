/**
 * Function URL invocations: an HTTP request for a URL configuration becomes a synchronous invoke
 * through the same FrontendInvokeService as the Invoke API (so counting, assignment and payload
 * limits apply), and the result becomes the HTTP response. CORS preflights are answered here
 * without invoking. Authentication (AWS_IAM) is the api component's: it passes who signed.
 * Platform failures (throttling, a function that is gone) are thrown as KilnErrors for the api's
 * one error table; function failures are 502 responses.
 */
import type { FunctionUrlRecord } from "../control/index.js";
import { applyCors, isPreflight, preflightHeaders } from "./cors.js";
import { buildUrlEvent, type UrlEventContext, type UrlRequest } from "./function-url-event.js";
import { toUrlResponse, type UrlResponse } from "./function-url-response.js";
import type { FrontendInvokeService } from "./invoke.js";

export interface UrlInvocation {
  url: FunctionUrlRecord;
  request: UrlRequest;
  requestId: string;
  timeEpoch: number;
  iam?: UrlEventContext["iam"];
}

export class FunctionUrlInvoker {
  constructor(private readonly frontend: Pick<FrontendInvokeService, "invoke">, private readonly region: string) {}

  async handle(inv: UrlInvocation): Promise<UrlResponse> {
    const { url, request } = inv;
    const single: Record<string, string | undefined> = {};
    for (const [k, v] of request.headers) single[k.toLowerCase()] ??= v;
    if (url.cors !== undefined && isPreflight(request.method, single)) {
      return { statusCode: 200, headers: preflightHeaders(url.cors, single), body: Buffer.alloc(0) };
    }
    const event = buildUrlEvent(request, {
      accountId: url.accountId,
      urlId: url.urlId,
      region: this.region,
      requestId: inv.requestId,
      timeEpoch: inv.timeEpoch,
      ...(inv.iam ? { iam: inv.iam } : {}),
    });
    const r = await this.frontend.invoke({
      accountId: url.accountId,
      functionName: url.functionName,
      ...(url.qualifier !== "$LATEST" ? { qualifier: url.qualifier } : {}),
      payload: Buffer.from(JSON.stringify(event)),
      requestId: inv.requestId,
    });
    const response = toUrlResponse(r.payload, r.functionError);
    if (url.cors !== undefined) response.headers = applyCors(url.cors, single.origin, response.headers);
    return response;
  }
}
