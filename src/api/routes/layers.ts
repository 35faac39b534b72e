/** Layer operations: PublishLayerVersion, GetLayerVersion (and by ARN), ListLayers, ListLayerVersions, DeleteLayerVersion. */
import {
  decodeBase64Zip,
  parseArnParameter,
  parseLayerName,
  parseVersionNumber,
  toLayersListItem,
  toLayerVersion,
  toLayerVersionsListItem,
  validateLayerListFilters,
  validatePublishLayerVersion,
  type LayerRegistry,
} from "../../control/index.js";
import { jsonBody, type Handler, type RequestContext } from "../http.js";

export interface LayerRoutesDeps {
  layers: LayerRegistry;
  region: string;
  /** A time-limited download URL for a code package. */
  codeLocation(accountId: string, codeSha256: string): string;
}

export function layerRoutes(d: LayerRoutesDeps): Record<string, Handler> {
  const layerOf = (ctx: RequestContext) => parseLayerName(ctx.params.layer ?? "");
  const versionOf = (ctx: RequestContext) => parseVersionNumber(ctx.params.version ?? "");
  const full = (rec: Awaited<ReturnType<LayerRegistry["get"]>>) => toLayerVersion(rec, d.region, d.codeLocation(rec.accountId, rec.codeSha256));
  return {
    publishLayerVersion: async (ctx) => {
      const ref = layerOf(ctx);
      const input = validatePublishLayerVersion(jsonBody(ctx), decodeBase64Zip);
      return { status: 201, json: full(await d.layers.publish(ctx.account.accountId, ref, input)) };
    },
    getLayerVersion: async (ctx) => {
      const ref = layerOf(ctx);
      return { status: 200, json: full(await d.layers.get(ctx.account.accountId, ref, versionOf(ctx))) };
    },
    /** GET /2018-10-31/layers is ListLayers, or GetLayerVersionByArn with ?find=LayerVersion&Arn=. */
    listLayersOrFind: async (ctx) => {
      if (ctx.query.get("find") === "LayerVersion") {
        return { status: 200, json: full(await d.layers.getByArn(ctx.account.accountId, parseArnParameter(ctx.query.get("Arn")))) };
      }
      const page = await d.layers.list(ctx.account.accountId, validateLayerListFilters(ctx.query));
      const out: Record<string, unknown> = { Layers: page.layers.map((l) => toLayersListItem(l.name, l.latest, d.region)) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
    listLayerVersions: async (ctx) => {
      const ref = layerOf(ctx);
      const page = await d.layers.listVersions(ctx.account.accountId, ref, validateLayerListFilters(ctx.query));
      const out: Record<string, unknown> = { LayerVersions: page.versions.map((v) => toLayerVersionsListItem(v, d.region)) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
    deleteLayerVersion: async (ctx) => {
      const ref = layerOf(ctx);
      await d.layers.delete(ctx.account.accountId, ref, versionOf(ctx));
      return { status: 204 };
    },
  };
}
