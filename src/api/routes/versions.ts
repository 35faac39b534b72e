/** PublishVersion and ListVersionsByFunction. */
import { validation } from "../../base/index.js";
import { DESCRIPTION_MAX, toFunctionConfiguration, type FunctionRegistry } from "../../control/index.js";
import { jsonBody, type Handler } from "../http.js";
import { functionOf, maxItems, optionalString } from "./params.js";

export function versionRoutes(d: { registry: FunctionRegistry; region: string }): Record<"publishVersion" | "listVersions", Handler> {
  return {
    publishVersion: async (ctx) => {
      const body = jsonBody(ctx);
      const description = optionalString(body, "Description");
      if (description !== undefined && description.length > DESCRIPTION_MAX) {
        throw validation(`1 validation error detected: Value '${description}' at 'description' failed to satisfy constraint: Member must have length less than or equal to ${DESCRIPTION_MAX}`);
      }
      const codeSha256 = optionalString(body, "CodeSha256");
      const revisionId = optionalString(body, "RevisionId");
      const rec = await d.registry.versions.publish(ctx.account.accountId, functionOf(ctx), {
        ...(codeSha256 !== undefined ? { codeSha256 } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(revisionId !== undefined ? { revisionId } : {}),
      });
      return { status: 201, json: toFunctionConfiguration(rec, d.region) };
    },
    listVersions: async (ctx) => {
      const page = await d.registry.versions.list(ctx.account.accountId, functionOf(ctx), ctx.query.get("Marker") ?? undefined, maxItems(ctx));
      const out: Record<string, unknown> = {
        Versions: page.versions.map((v) => toFunctionConfiguration(v, d.region, { forList: true, arnQualifier: v.version })),
      };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
  };
}
