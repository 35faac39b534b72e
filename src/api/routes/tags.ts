/** TagResource, UntagResource, ListTags (`/2017-03-31/tags/{ARN}`). */
import { validateTagMap, type FunctionRegistry } from "../../control/index.js";
import { jsonBody, type Handler } from "../http.js";

export function tagRoutes(d: { registry: FunctionRegistry }): Record<"tagResource" | "untagResource" | "listTags", Handler> {
  const tags = d.registry.tags;
  return {
    tagResource: async (ctx) => {
      await tags.tag(ctx.account.accountId, ctx.params.arn ?? "", validateTagMap(jsonBody(ctx).Tags));
      return { status: 204 };
    },
    untagResource: async (ctx) => {
      await tags.untag(ctx.account.accountId, ctx.params.arn ?? "", ctx.query.getAll("tagKeys"));
      return { status: 204 };
    },
    listTags: async (ctx) => ({ status: 200, json: { Tags: await tags.list(ctx.account.accountId, ctx.params.arn ?? "") } }),
  };
}
