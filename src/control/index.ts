/**
 * control: the control plane. The function registry (create/update/delete, state machine),
 * accounts and their keys, request validation with AWS's messages, and Lambda's wire shapes.
 * Must not import: api, frontend, worker, assignment.
 */
export * from "./types.js";
export * from "./names.js";
export * from "./limits.js";
export { validateCreateFunction, validateUpdateCode, validateUpdateConfiguration, type CreateFunctionInput, type ConfigurationInput, type UpdateCodeInput } from "./validation.js";
export { toFunctionConfiguration, type FunctionConfiguration } from "./wire.js";
export { FunctionRegistry, type CodePackages, type FunctionChange } from "./functions.js";
export { Accounts } from "./accounts.js";
export * from "./event-invoke-config.js";
export { EventInvokeConfigs, type AsyncInvokeSettings } from "./event-invoke-configs.js";
