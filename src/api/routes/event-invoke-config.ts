/** Put/Update/Get/Delete/ListFunctionEventInvokeConfigs (`/2019-09-25/functions/{fn}/event-invoke-config`). */
import { KilnError } from "../../base/index.js";
import { EVENT_INVOKE_CONFIG_LIST_MAX, toEventInvokeConfigWire, type EventInvokeConfigs } from "../../control/index.js";
import { jsonBody, type Handler, type RequestContext } from "../http.js";

export interface EventInvokeConfigRoutesDeps {
  configs: EventInvokeConfigs;
  region: string;
}

const qualifierOf = (ctx: RequestContext): string | undefined => ctx.query.get("Qualifier") ?? undefined;

export function eventInvokeConfigRoutes(d: EventInvokeConfigRoutesDeps): Record<"put" | "update" | "get" | "delete" | "list", Handler> {
  const wire = (rec: Parameters<typeof toEventInvokeConfigWire>[0]) => toEventInvokeConfigWire(rec, d.region);
  return {
    put: async (ctx) => ({ status: 200, json: wire(await d.configs.put(ctx.account.accountId, ctx.params.fn ?? "", qualifierOf(ctx), jsonBody(ctx))) }),
    update: async (ctx) => ({ status: 200, json: wire(await d.configs.update(ctx.account.accountId, ctx.params.fn ?? "", qualifierOf(ctx), jsonBody(ctx))) }),
    get: async (ctx) => ({ status: 200, json: wire(await d.configs.get(ctx.account.accountId, ctx.params.fn ?? "", qualifierOf(ctx))) }),
    delete: async (ctx) => {
      await d.configs.delete(ctx.account.accountId, ctx.params.fn ?? "", qualifierOf(ctx));
      return { status: 204 };
    },
    list: async (ctx) => {
      const raw = ctx.query.get("MaxItems");
      let max = EVENT_INVOKE_CONFIG_LIST_MAX;
      if (raw !== null) {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 1 || n > EVENT_INVOKE_CONFIG_LIST_MAX) {
          throw new KilnError("ValidationException", `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and ${EVENT_INVOKE_CONFIG_LIST_MAX}`);
        }
        max = n;
      }
      const page = await d.configs.list(ctx.account.accountId, ctx.params.fn ?? "", ctx.query.get("Marker") ?? undefined, max);
      const out: Record<string, unknown> = { FunctionEventInvokeConfigs: page.configs.map(wire) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
  };
}
