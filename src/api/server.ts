/**
 * The API server: AWS Lambda's REST surface (2015-03-31 & co.), a CloudWatch Logs subset, Kiln's
 * admin operations and /healthz. Every call except /healthz and presigned code links is
 * SigV4-verified; errors are mapped once, in errors.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { KilnError, requestId as newRequestId, type Logger } from "../base/index.js";
import type { Accounts, AccountRecord, EventInvokeConfigs, FunctionRegistry, FunctionUrlRegistry, LayerRegistry } from "../control/index.js";
import { FunctionUrlInvoker, type FrontendInvokeService } from "../frontend/index.js";
import type { FunctionAsyncStats } from "../pollers/index.js";
import type { LogStore } from "../store/index.js";
import { sendJson11Error, sendLambdaError, toKilnError } from "./errors.js";
import type { ApiResponse, RequestContext, RouteSpec } from "./http.js";
import { jsonBody } from "./http.js";
import { FunctionUrlGateway, functionUrlAddress, urlTarget } from "./function-url-gateway.js";
import { CodeLinks } from "./presign.js";
import { Router } from "./router.js";
import { functionRoutes } from "./routes/functions.js";
import { functionUrlRoutes } from "./routes/function-urls.js";
import { layerRoutes } from "./routes/layers.js";
import { invokeRoute } from "./routes/invoke.js";
import { eventInvokeConfigRoutes } from "./routes/event-invoke-config.js";
import { asyncStatsRoute } from "./routes/async-stats.js";
import { addReleaseRoutes } from "./routes/release.js";
import { LOGS_TARGET_PREFIX, logsOperation } from "./routes/logs.js";
import { SigV4Verifier } from "./sigv4.js";

/** CreateFunction / UpdateFunctionCode request limit, as AWS states it. */
export const MAX_CODE_REQUEST_BYTES = 70_167_211;
export const MAX_CONTROL_REQUEST_BYTES = 1_048_576;
export const MAX_INVOKE_REQUEST_BYTES = 6_291_456;

export interface ApiDeps {
  accounts: Accounts;
  registry: FunctionRegistry;
  layers: LayerRegistry;
  functionUrls: FunctionUrlRegistry;
  frontend: FrontendInvokeService;
  eventInvokeConfigs: EventInvokeConfigs;
  /** A function's async queue and metrics (the poller fleet's view). */
  asyncStats(accountId: string, functionName: string): Promise<FunctionAsyncStats>;
  logs: LogStore;
  region: string;
  accountConcurrency: number;
  codeLinkSecret: Buffer;
  zipPath(codeSha256: string): string;
  /** Makes zipPath(sha) valid when the package may live elsewhere (a cluster's shared store). */
  ensureZip?(codeSha256: string): Promise<boolean>;
  log: Logger;
  /** Extra readiness check for /healthz. */
  ready(): boolean;
  /** Diagnostics for root: the worker's pre-initialized sandbox pool (GET /kiln/2026-01-01/pool). */
  poolStats?(): unknown;
  /** Diagnostics for root: sandbox driver, accelerator, environments, pool (GET /kiln/2026-01-01/metrics). */
  metrics?(): unknown;
}

export class ApiServer {
  readonly server: Server;
  private readonly router = new Router<RouteSpec>();
  private readonly verifier: SigV4Verifier;
  private readonly links: CodeLinks;
  private readonly urlGateway: FunctionUrlGateway;
  private baseUrl = "http://127.0.0.1";
  private port = 0;

  constructor(private readonly d: ApiDeps) {
    this.verifier = new SigV4Verifier(async (keyId) => (await d.accounts.byAccessKey(keyId))?.secretAccessKey);
    this.links = new CodeLinks(d.codeLinkSecret, () => this.baseUrl);
    const fn = functionRoutes({ registry: d.registry, region: d.region, accountConcurrency: d.accountConcurrency, codeLocation: (a, s) => this.links.url(a, s) });
    const small = (handler: RouteSpec["handler"]): RouteSpec => ({
      handler,
      maxBody: MAX_CONTROL_REQUEST_BYTES,
      tooLarge: () => new KilnError("RequestTooLargeException", `Request must be smaller than ${MAX_CONTROL_REQUEST_BYTES} bytes for this operation`),
    });
    const code = (handler: RouteSpec["handler"], op: string): RouteSpec => ({
      handler,
      maxBody: MAX_CODE_REQUEST_BYTES,
      tooLarge: () => new KilnError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_CODE_REQUEST_BYTES} bytes for the ${op} operation`),
    });
    const layer = layerRoutes({ layers: d.layers, region: d.region, codeLocation: (a, s) => this.links.url(a, s) });
    const url = functionUrlRoutes({ urls: d.functionUrls, functionUrl: (id) => functionUrlAddress(id, d.region, this.port) });
    this.urlGateway = new FunctionUrlGateway({
      urls: d.functionUrls,
      invoker: new FunctionUrlInvoker(d.frontend, d.region),
      verifier: this.verifier,
      accounts: d.accounts,
      region: d.region,
      log: d.log,
      now: Date.now,
    });
    this.router
      .add("POST", "/2018-10-31/layers/{layer}/versions", code(layer.publishLayerVersion!, "PublishLayerVersion"))
      .add("GET", "/2018-10-31/layers/{layer}/versions", small(layer.listLayerVersions!))
      .add("GET", "/2018-10-31/layers/{layer}/versions/{version}", small(layer.getLayerVersion!))
      .add("DELETE", "/2018-10-31/layers/{layer}/versions/{version}", small(layer.deleteLayerVersion!))
      .add("GET", "/2018-10-31/layers", small(layer.listLayersOrFind!))
      .add("POST", "/2021-10-31/functions/{fn}/url", small(url.createUrl!))
      .add("GET", "/2021-10-31/functions/{fn}/url", small(url.getUrl!))
      .add("PUT", "/2021-10-31/functions/{fn}/url", small(url.updateUrl!))
      .add("DELETE", "/2021-10-31/functions/{fn}/url", small(url.deleteUrl!))
      .add("GET", "/2021-10-31/functions/{fn}/urls", small(url.listUrls!))
      .add("POST", "/2015-03-31/functions", code(fn.createFunction!, "CreateFunction"))
      .add("GET", "/2015-03-31/functions", small(fn.listFunctions!))
      .add("GET", "/2015-03-31/functions/{fn}", small(fn.getFunction!))
      .add("DELETE", "/2015-03-31/functions/{fn}", small(fn.deleteFunction!))
      .add("GET", "/2015-03-31/functions/{fn}/configuration", small(fn.getConfiguration!))
      .add("PUT", "/2015-03-31/functions/{fn}/configuration", small(fn.updateConfiguration!))
      .add("PUT", "/2015-03-31/functions/{fn}/code", code(fn.updateCode!, "UpdateFunctionCode"))
      .add("GET", "/2016-08-19/account-settings", small(fn.getAccountSettings!))
      .add("POST", "/2015-03-31/functions/{fn}/invocations", {
        handler: invokeRoute(d.frontend),
        maxBody: MAX_INVOKE_REQUEST_BYTES,
        tooLarge: () => new KilnError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_INVOKE_REQUEST_BYTES} bytes for the InvokeFunction operation`),
      })
      .add("POST", "/kiln/2026-01-01/accounts", { ...small(async (ctx) => this.createAccount(ctx)), rootOnly: true })
      .add("GET", "/kiln/2026-01-01/pool", { ...small(async () => ({ status: 200, json: d.poolStats?.() ?? { enabled: false } })), rootOnly: true })
      .add("GET", "/kiln/2026-01-01/metrics", { ...small(async () => ({ status: 200, json: d.metrics?.() ?? {} })), rootOnly: true });
    addReleaseRoutes(this.router, small, { registry: d.registry, region: d.region, provisioned: d.frontend.provisioned });
    const eic = eventInvokeConfigRoutes({ configs: d.eventInvokeConfigs, region: d.region });
    this.router
      .add("PUT", "/2019-09-25/functions/{fn}/event-invoke-config", small(eic.put))
      .add("POST", "/2019-09-25/functions/{fn}/event-invoke-config", small(eic.update))
      .add("GET", "/2019-09-25/functions/{fn}/event-invoke-config", small(eic.get))
      .add("DELETE", "/2019-09-25/functions/{fn}/event-invoke-config", small(eic.delete))
      .add("GET", "/2019-09-25/functions/{fn}/event-invoke-config/list", small(eic.list))
      .add("GET", "/kiln/2026-01-01/functions/{fn}/async-stats", small(asyncStatsRoute({ registry: d.registry, region: d.region, stats: d.asyncStats })));
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 15 * 60_000 }, (req, res) => void this.handle(req, res));
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const addr = this.server.address();
    const actualPort = typeof addr === "object" && addr ? addr.port : port;
    this.port = actualPort;
    const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
    this.baseUrl = `http://${shownHost}:${actualPort}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      setTimeout(() => {
        this.server.closeAllConnections();
      }, 2000).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1));
    const logsTarget = String(req.headers["x-amz-target"] ?? "");
    const isLogs = req.method === "POST" && rawPath === "/" && logsTarget.startsWith(LOGS_TARGET_PREFIX);
    const urlFor = urlTarget(req.headers.host, rawPath);
    try {
      if (urlFor) {
        const body = await readLimited(req, MAX_INVOKE_REQUEST_BYTES, () => new KilnError("RequestEntityTooLargeException", `Request must be smaller than ${MAX_INVOKE_REQUEST_BYTES} bytes for the InvokeFunction operation`));
        return await this.urlGateway.handle(req, res, urlFor, body, requestId);
      }
      if (req.method === "GET" && rawPath === "/healthz") return this.health(res);
      if (req.method === "GET" && rawPath.startsWith("/kiln/2026-01-01/code/")) return await this.download(rawPath, query, res, requestId);
      if (isLogs) {
        const body = await readLimited(req, MAX_CONTROL_REQUEST_BYTES, () => new KilnError("RequestTooLargeException", "Request too large"));
        const account = await this.authenticate(req, rawPath, query, body, ["logs"]);
        const ctx: RequestContext = { requestId, account, params: {}, query, headers: req.headers, body };
        const out = await logsOperation(this.d.logs, account, logsTarget.slice(LOGS_TARGET_PREFIX.length), jsonBody(ctx));
        return send(res, { status: 200, json: out, headers: { "Content-Type": "application/x-amz-json-1.1" } }, requestId);
      }
      const match = this.router.match(req.method ?? "GET", rawPath);
      if (match === undefined || match === "method") {
        req.resume();
        throw new KilnError("UnknownOperationException", `Kiln does not implement ${req.method} ${rawPath}. See the README's compatibility table.`);
      }
      const body = await readLimited(req, match.handler.maxBody, match.handler.tooLarge);
      const account = await this.authenticate(req, rawPath, query, body, ["lambda"]);
      if (match.handler.rootOnly && !account.root) throw new KilnError("AccessDeniedException", "Only the root account may manage accounts.");
      const out = await match.handler.handler({ requestId, account, params: match.params, query, headers: req.headers, body });
      send(res, out, requestId);
    } catch (e) {
      const err = toKilnError(e);
      if (err.code === "ServiceException") this.d.log.error("request failed", { requestId, path: rawPath, error: String(err.cause ?? err.message) });
      if (isLogs) sendJson11Error(res, err, requestId);
      else sendLambdaError(res, err, requestId);
    }
  }

  private async authenticate(req: IncomingMessage, rawPath: string, query: URLSearchParams, body: Buffer, services: string[]): Promise<AccountRecord> {
    const auth = await this.verifier.verify({ method: req.method ?? "GET", rawPath, query, headers: req.headers, body }, services);
    if (auth.region !== this.d.region) throw new KilnError("InvalidSignatureException", `Credential should be scoped to a valid region, not '${auth.region}'.`);
    const account = await this.d.accounts.byAccessKey(auth.accessKeyId);
    if (!account) throw new KilnError("UnrecognizedClientException", "The security token included in the request is invalid.");
    return account;
  }

  private health(res: ServerResponse): void {
    const ok = this.d.ready();
    const data = ok ? '{"status":"ok"}' : '{"status":"starting"}';
    res.writeHead(ok ? 200 : 503, { "Content-Type": "application/json", "Content-Length": data.length });
    res.end(data);
  }

  private async download(rawPath: string, query: URLSearchParams, res: ServerResponse, requestId: string): Promise<void> {
    const [accountId, shaHex] = rawPath.slice("/kiln/2026-01-01/code/".length).split("/");
    const sha = accountId && shaHex ? this.links.check(accountId, shaHex, query) : undefined;
    if (!sha) throw new KilnError("AccessDeniedException", "The download link is invalid or has expired: call GetFunction for a new one.");
    if (this.d.ensureZip) await this.d.ensureZip(sha);
    const path = this.d.zipPath(sha);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new KilnError("ResourceNotFoundException", "The code package no longer exists.");
    res.writeHead(200, { "Content-Type": "application/zip", "Content-Length": info.size, "x-amzn-RequestId": requestId });
    createReadStream(path).pipe(res);
  }

  private async createAccount(ctx: RequestContext): Promise<ApiResponse> {
    const body = jsonBody(ctx);
    if (typeof body.Name !== "string") throw new KilnError("InvalidParameterValueException", "Name is required: a string of 1-64 letters, digits, '-', '_' or '.'.");
    const a = await this.d.accounts.create(body.Name);
    return { status: 201, json: { AccountId: a.accountId, Name: a.name, AccessKeyId: a.accessKeyId, SecretAccessKey: a.secretAccessKey } };
  }
}

function send(res: ServerResponse, out: ApiResponse, requestId: string): void {
  const data = out.raw ?? (out.json !== undefined ? Buffer.from(JSON.stringify(out.json)) : Buffer.alloc(0));
  const headers: Record<string, string | number> = { "x-amzn-RequestId": requestId, "Content-Length": data.length, ...out.headers };
  if (out.json !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
  res.writeHead(out.status, headers);
  res.end(data);
}

/** Reads the whole body, refusing (after draining) anything larger than `limit`. */
function readLimited(req: IncomingMessage, limit: number, tooLarge: () => KilnError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? -1);
    if (declared > limit) {
      req.resume();
      return reject(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      if (!over) chunks.push(c);
    });
    req.on("end", () => (over ? reject(tooLarge()) : resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))));
    req.on("error", reject);
  });
}
