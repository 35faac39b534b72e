/**
 * pollers: the poller fleet that drains the async event queue: lane scheduling (fairness between
 * functions, adaptive to throttling), retry decisions (MaximumRetryAttempts, max event age,
 * backoff), invocation through the frontend's synchronous path, destinations and dead letters,
 * AsyncEventAge. Decisions are pure (`retry.ts`, `lanes.ts`, `record.ts`); `fleet.ts` is the I/O.
 * Must not import: api, store, sandbox, worker, assignment.
 */
export { PollerFleet, MAX_SLEEP_MS, type AcceptedEvent, type AsyncSettings, type SettingsSource, type FleetDeps, type FunctionAsyncStats } from "./fleet.js";
export { settingsFromControl } from "./settings.js";
export { throughFrontend, classifyInvokeError, type EventInvoker, type InvocationResult } from "./invoker.js";
export { loadAsyncOptions, defaultAsyncOptions, type AsyncOptions } from "./options.js";
export { afterAttempt, beforeAttempt, backoffMs, type RetryPolicy, type ErrorHandling, type Decision } from "./retry.js";
export { LaneScheduler } from "./lanes.js";
export { invocationRecord, type RecordCondition } from "./record.js";
export type { AgeSummary } from "./metrics.js";
