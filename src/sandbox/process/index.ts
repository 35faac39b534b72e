/**
 * sandbox/process: the `process` driver (a bubblewrap-jailed process tree in its own user, pid,
 * mount, net, ipc, uts and cgroup namespaces, with cgroup memory and process limits) and its `none`
 * variant (a plain child process). Public surface of this folder; sandbox/index.ts re-exports it.
 * See README.md for what the jail contains, what the worker must provide, and measured costs.
 */
export { createProcessDriver } from "./driver.js";
export { probeBubblewrap, type BubblewrapProbe, type ProbeOptions } from "./probe.js";
export { DEFAULT_MAX_PROCESSES, DEFAULT_SANDBOX_GID, DEFAULT_SANDBOX_UID, SANDBOX_USER_NAME, type ProcessDriverOptions } from "./options.js";
export { SOCKET_DIR_IN_SANDBOX } from "./jail.js";
// The runtime start commands and in-sandbox paths, shared with the microvm driver's guests.
export { SANDBOX_PATHS, runtimeCommand } from "./runtime-command.js";
