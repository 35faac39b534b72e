/**
 * api: the HTTP face of Kiln: AWS REST routing, SigV4 authentication, error mapping.
 * Parses requests into component calls; holds no business logic. Must not import: worker, sandbox.
 */
export { ApiServer, type ApiDeps, MAX_INVOKE_REQUEST_BYTES, MAX_CODE_REQUEST_BYTES } from "./server.js";
export { SigV4Verifier, MAX_CLOCK_SKEW_MS } from "./sigv4.js";
export { sendLambdaError, toKilnError } from "./errors.js";
