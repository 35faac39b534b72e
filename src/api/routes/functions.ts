/** Control-plane operations on functions, and GetAccountSettings. */
import { KilnError } from "../../base/index.js";
import {
  LIST_MAX_ITEMS,
  TOTAL_CODE_SIZE,
  UNZIPPED_MAX_BYTES,
  ZIPPED_MAX_BYTES,
  effectiveQualifier,
  parseFunctionRef,
  toFunctionConfiguration,
  validateCreateFunction,
  validateUpdateCode,
  validateUpdateConfiguration,
  type FunctionRegistry,
} from "../../control/index.js";
import { jsonBody, type Handler, type RequestContext } from "../http.js";

export interface FunctionRoutesDeps {
  registry: FunctionRegistry;
  region: string;
  accountConcurrency: number;
  /** A time-limited download URL for a code package. */
  codeLocation(accountId: string, codeSha256: string): string;
}

const refOf = (ctx: RequestContext) => {
  const ref = parseFunctionRef(ctx.params.fn ?? "");
  const qualifier = effectiveQualifier(ref, ctx.query.get("Qualifier") ?? undefined);
  return { ref, qualifier };
};

/** An alias-qualified read shows the alias in FunctionArn; version reads show the version. */
const arnQualifier = (qualifier: string | undefined): { arnQualifier?: string } =>
  qualifier !== undefined && qualifier !== "$LATEST" ? { arnQualifier: qualifier } : {};

export function functionRoutes(d: FunctionRoutesDeps): Record<string, Handler> {
  const config = (rec: Parameters<typeof toFunctionConfiguration>[0], qualifier?: string) => toFunctionConfiguration(rec, d.region, arnQualifier(qualifier));
  /** Publish: true on create or code update: a version once the new $LATEST is Active. */
  const published = async (accountId: string, name: string) => {
    await d.registry.settled();
    return config(await d.registry.versions.publish(accountId, { name }, {}));
  };
  /** ListFunctions with FunctionVersion=ALL: every version of every function, with qualified ARNs. */
  const listAllVersions = async (ctx: RequestContext, functionVersion: string, max: number) => {
    if (functionVersion !== "ALL") {
      throw new KilnError("ValidationException", `1 validation error detected: Value '${functionVersion}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]`);
    }
    const page = await d.registry.versions.listAll(ctx.account.accountId, ctx.query.get("Marker") ?? undefined, max);
    const out: Record<string, unknown> = { Functions: page.versions.map((v) => toFunctionConfiguration(v, d.region, { forList: true, arnQualifier: v.version })) };
    if (page.nextMarker) out.NextMarker = page.nextMarker;
    return { status: 200, json: out };
  };
  return {
    createFunction: async (ctx) => {
      const input = validateCreateFunction(jsonBody(ctx));
      const rec = await d.registry.create(ctx.account.accountId, input);
      return { status: 201, json: input.publish ? await published(ctx.account.accountId, rec.name) : config(rec) };
    },
    getFunction: async (ctx) => {
      const { ref, qualifier } = refOf(ctx);
      const rec = await d.registry.get(ctx.account.accountId, ref, qualifier);
      const out: Record<string, unknown> = {
        Configuration: config(rec, qualifier),
        Code: { RepositoryType: "S3", Location: d.codeLocation(ctx.account.accountId, rec.codeSha256) },
      };
      // Tags and reserved concurrency belong to the function, whichever version is read.
      const tags = rec.version === "$LATEST" ? rec.tags : (await d.registry.get(ctx.account.accountId, ref)).tags;
      if (Object.keys(tags).length > 0) out.Tags = tags;
      const reserved = await d.registry.concurrency.reserved(ctx.account.accountId, ref);
      if (reserved !== undefined) out.Concurrency = { ReservedConcurrentExecutions: reserved };
      return { status: 200, json: out };
    },
    getConfiguration: async (ctx) => {
      const { ref, qualifier } = refOf(ctx);
      return { status: 200, json: config(await d.registry.get(ctx.account.accountId, ref, qualifier), qualifier) };
    },
    listFunctions: async (ctx) => {
      const raw = ctx.query.get("MaxItems");
      let max = LIST_MAX_ITEMS;
      if (raw !== null) {
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 1 || n > 10_000) {
          throw new KilnError("ValidationException", `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`);
        }
        max = Math.min(n, LIST_MAX_ITEMS);
      }
      const functionVersion = ctx.query.get("FunctionVersion");
      if (functionVersion !== null) return listAllVersions(ctx, functionVersion, max);
      const page = await d.registry.list(ctx.account.accountId, ctx.query.get("Marker") ?? undefined, max);
      const out: Record<string, unknown> = { Functions: page.functions.map((f) => toFunctionConfiguration(f, d.region, { forList: true })) };
      if (page.nextMarker) out.NextMarker = page.nextMarker;
      return { status: 200, json: out };
    },
    updateCode: async (ctx) => {
      const { ref } = refOf(ctx);
      const input = validateUpdateCode(jsonBody(ctx));
      const rec = await d.registry.updateCode(ctx.account.accountId, ref, input);
      return { status: 200, json: input.publish && !input.dryRun ? await published(ctx.account.accountId, rec.name) : config(rec) };
    },
    updateConfiguration: async (ctx) => {
      const { ref } = refOf(ctx);
      return { status: 200, json: config(await d.registry.updateConfiguration(ctx.account.accountId, ref, validateUpdateConfiguration(jsonBody(ctx)))) };
    },
    deleteFunction: async (ctx) => {
      const { ref, qualifier } = refOf(ctx);
      await d.registry.delete(ctx.account.accountId, ref, qualifier);
      return { status: 204 };
    },
    getAccountSettings: async (ctx) => {
      const usage = await d.registry.usage(ctx.account.accountId);
      return {
        status: 200,
        json: {
          AccountLimit: {
            TotalCodeSize: TOTAL_CODE_SIZE,
            CodeSizeUnzipped: UNZIPPED_MAX_BYTES,
            CodeSizeZipped: ZIPPED_MAX_BYTES,
            ConcurrentExecutions: d.accountConcurrency,
            UnreservedConcurrentExecutions: await d.registry.concurrency.unreserved(ctx.account.accountId),
          },
          AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
        },
      };
    },
  };
}
