/** Invoke: the data plane's REST face. Everything else lives in the frontend component. */
import type { FrontendInvokeService } from "../../frontend/index.js";
import { header, type Handler } from "../http.js";

export function invokeRoute(frontend: FrontendInvokeService): Handler {
  return async (ctx) => {
    const qualifier = ctx.query.get("Qualifier");
    const invocationType = header(ctx, "x-amz-invocation-type");
    const logType = header(ctx, "x-amz-log-type");
    const clientContext = header(ctx, "x-amz-client-context");
    const r = await frontend.invoke({
      accountId: ctx.account.accountId,
      functionName: ctx.params.fn ?? "",
      payload: ctx.body,
      requestId: ctx.requestId,
      ...(qualifier !== null ? { qualifier } : {}),
      ...(invocationType !== undefined ? { invocationType } : {}),
      ...(logType !== undefined ? { logType } : {}),
      ...(clientContext !== undefined ? { clientContext } : {}),
    });
    const headers: Record<string, string> = { "X-Amz-Executed-Version": r.executedVersion };
    if (r.functionError) headers["X-Amz-Function-Error"] = r.functionError;
    if (r.logResult !== undefined) headers["X-Amz-Log-Result"] = r.logResult;
    if (r.statusCode === 200) headers["Content-Type"] = "application/json";
    return { status: r.statusCode, raw: r.payload, headers };
  };
}
