/** CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases. */
import { toAliasConfiguration, validateFunctionVersion, type FunctionRegistry } from "../../control/index.js";
import { jsonBody, type Handler } from "../http.js";
import { functionOf, maxItems } from "./params.js";

type AliasOperation = "createAlias" | "getAlias" | "updateAlias" | "deleteAlias" | "listAliases";

export function aliasRoutes(d: { registry: FunctionRegistry; region: string }): Record<AliasOperation, Handler> {
  const aliases = d.registry.aliases;
  return {
    createAlias: async (ctx) => ({ status: 201, json: toAliasConfiguration(await aliases.create(ctx.account.accountId, functionOf(ctx), jsonBody(ctx)), d.region) }),
    getAlias: async (ctx) => ({ status: 200, json: toAliasConfiguration(await aliases.get(ctx.account.accountId, functionOf(ctx), ctx.params.alias ?? ""), d.region) }),
    updateAlias: async (ctx) => ({
      status: 200,
      json: toAliasConfiguration(await aliases.update(ctx.account.accountId, functionOf(ctx), ctx.params.alias ?? "", jsonBody(ctx)), d.region),
    }),
    deleteAlias: async (ctx) => {
      await aliases.delete(ctx.account.accountId, functionOf(ctx), ctx.params.alias ?? "");
      return { status: 204 };
    },
    listAliases: async (ctx) => {
      const version = validateFunctionVersion(ctx.query.get("FunctionVersion") ?? undefined, false);
      const page = await aliases.list(ctx.account.accountId, functionOf(ctx), {
        maxItems: maxItems(ctx),
        ...(version !== undefined ? { functionVersion: version } : {}),
        ...(ctx.query.get("Marker") ? { marker: ctx.query.get("Marker")! } : {}),
      });
      const out: Record<string, unknown> = { Aliases: page.aliases.map((a) => toAliasConfiguration(a, d.region)) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
  };
}
