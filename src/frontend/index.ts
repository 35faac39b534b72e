/**
 * frontend: the invoke service (sync, event and dry-run invokes): resolution, payload
 * limits, counting, assignment, and the response facts. Must not import: api, store, sandbox.
 */
export { MAX_ASYNC_PAYLOAD_BYTES, type AsyncEventSink } from "./event.js";
export { FrontendInvokeService, InvocationNotStartedError, normalizePayload, MAX_SYNC_PAYLOAD_BYTES, type InvokeRequest, type InvokeResponse, type InvokeTarget, type FrontendOptions } from "./invoke.js";
export { FunctionUrlInvoker, type UrlInvocation } from "./function-url.js";
export { buildUrlEvent, isTextContentType, requestTime, type UrlRequest, type UrlEventContext } from "./function-url-event.js";
export { toUrlResponse, BAD_GATEWAY, type UrlResponse } from "./function-url-response.js";
export { applyCors, isPreflight, preflightHeaders } from "./cors.js";
