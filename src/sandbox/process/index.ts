/**
 * sandbox/process: the `process` driver (a bubblewrap-jailed process tree in its own user, pid,
 * mount, net, ipc, uts and cgroup namespaces, with a cgroup memory limit) and its `none` variant (a
 * plain child process). Public surface of this folder; sandbox/index.ts re-exports it.
 */
export { createProcessDriver } from "./driver.js";
export { probeBubblewrap, type BubblewrapProbe, type ProbeOptions } from "./probe.js";
export { DEFAULT_SANDBOX_GID, DEFAULT_SANDBOX_UID, SANDBOX_USER_NAME, type ProcessDriverOptions } from "./options.js";
export { SOCKET_DIR_IN_SANDBOX } from "./jail.js";
