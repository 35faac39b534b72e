/** Function URL configuration operations: Create/Get/Update/Delete/ListFunctionUrlConfigs. */
import {
  effectiveQualifier,
  parseFunctionRef,
  toFunctionUrlConfig,
  validateFunctionUrlInput,
  validateUrlListMaxItems,
  validateUrlQualifier,
  type FunctionUrlRecord,
  type FunctionUrlRegistry,
} from "../../control/index.js";
import { jsonBody, type Handler, type RequestContext } from "../http.js";

export interface FunctionUrlRoutesDeps {
  urls: FunctionUrlRegistry;
  /** Where Kiln serves a URL (see function-url-gateway.ts). */
  functionUrl(urlId: string): string;
}

export function functionUrlRoutes(d: FunctionUrlRoutesDeps): Record<string, Handler> {
  const target = (ctx: RequestContext) => {
    const ref = parseFunctionRef(ctx.params.fn ?? "");
    const qualifier = validateUrlQualifier(effectiveQualifier(ref, ctx.query.get("Qualifier") ?? undefined));
    return { ref, qualifier };
  };
  const wire = (rec: FunctionUrlRecord, created = false) => toFunctionUrlConfig(rec, d.urls.functionArn(rec), d.functionUrl(rec.urlId), { created });
  return {
    createUrl: async (ctx) => {
      const { ref, qualifier } = target(ctx);
      const input = validateFunctionUrlInput(jsonBody(ctx), { create: true });
      return { status: 201, json: wire(await d.urls.create(ctx.account.accountId, ref, qualifier, input), true) };
    },
    getUrl: async (ctx) => {
      const { ref, qualifier } = target(ctx);
      return { status: 200, json: wire(await d.urls.get(ctx.account.accountId, ref, qualifier)) };
    },
    updateUrl: async (ctx) => {
      const { ref, qualifier } = target(ctx);
      const input = validateFunctionUrlInput(jsonBody(ctx), { create: false });
      return { status: 200, json: wire(await d.urls.update(ctx.account.accountId, ref, qualifier, input)) };
    },
    deleteUrl: async (ctx) => {
      const { ref, qualifier } = target(ctx);
      await d.urls.delete(ctx.account.accountId, ref, qualifier);
      return { status: 204 };
    },
    listUrls: async (ctx) => {
      const ref = parseFunctionRef(ctx.params.fn ?? "");
      const max = validateUrlListMaxItems(ctx.query.get("MaxItems"));
      const page = await d.urls.list(ctx.account.accountId, ref, ctx.query.get("Marker") ?? undefined, max);
      const out: Record<string, unknown> = { FunctionUrlConfigs: page.configs.map((c) => wire(c)) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
  };
}
