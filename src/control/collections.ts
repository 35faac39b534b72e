/** Metadata store collections of the control plane. Keys are `<account>/<function>[/<version|alias>]`. */
export const FUNCTIONS = "functions";
export const VERSIONS = "function-versions";
export const ALIASES = "function-aliases";
/** Function-level settings: the version counter and reserved concurrency (FunctionMeta). */
export const META = "function-meta";
export const PROVISIONED = "provisioned-concurrency";
