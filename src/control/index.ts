/**
 * control: the control plane. The function registry (create/update/delete, state machine),
 * accounts and their keys, request validation with AWS's messages, and Lambda's wire shapes.
 * Must not import: api, frontend, worker, assignment.
 */
export * from "./types.js";
export * from "./names.js";
export * from "./limits.js";
export { validateCreateFunction, validateUpdateCode, validateUpdateConfiguration, decodeBase64Zip, type CreateFunctionInput, type ConfigurationInput, type UpdateCodeInput } from "./validation.js";
export { toFunctionConfiguration, type FunctionConfiguration } from "./wire.js";
export { FunctionRegistry, type CodePackages, type FunctionChange } from "./functions.js";
export { Accounts } from "./accounts.js";
export { FunctionVersions, configFingerprint, isVersionNumber, type PublishInput } from "./versions.js";
export { FunctionAliases, toAliasConfiguration, validateAliasName, validateFunctionVersion } from "./aliases.js";
export { checkRouting, parseRoutingConfig, routesToAdditional, type RoutingEntry } from "./routing.js";
export { ConcurrencyConfigs, allocatedOf, unreservedConcurrency, checkReservedConcurrency, checkProvisionedConcurrency, type FunctionAllocation } from "./concurrency.js";
export { FunctionTags, parseTaggableArn, validateTagMap } from "./tags.js";
export { LayerRegistry, accessDenied, combinedSizeError, type LayerRegistryDeps } from "./layers.js";
export * from "./layer-validation.js";
export { toLayerVersion, toLayerVersionsListItem, toLayersListItem } from "./layer-wire.js";
export { FunctionUrlRegistry, newUrlId, type FunctionUrlRegistryDeps } from "./function-urls.js";
export * from "./function-url-validation.js";
export { toFunctionUrlConfig, urlTimestamp } from "./function-url-wire.js";
