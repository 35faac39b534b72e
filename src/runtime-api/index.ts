/**
 * runtime-api: the Lambda Runtime API 2018-06-01 that sandboxes talk to (next, response, error,
 * init/error). One endpoint per sandbox, on a unix socket. Must not import other components but base.
 */
export { RuntimeApiEndpoint, MAX_RESPONSE_BYTES, readBody, type InvocationRequest, type RuntimeOutcome, type EndpointEvents, type EndpointOptions, SPECIALIZATION_PATH } from "./endpoint.js";
