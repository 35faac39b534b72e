/**
 * The lifecycle of one process-driver sandbox as a pure state machine.
 *
 *   running --exit--> exited            (the runtime died by itself: onExit is reported)
 *   running|exited --restart--> restarting --respawned--> running
 *   restarting --exit--> restarting     (our own SIGKILL: not reported)
 *   restarting --respawn-failed--> exited
 *   any --destroy--> destroyed          (terminal: later exits are not reported, restarts are refused)
 *
 * Worked example: a function times out -> the worker calls restartRuntime() -> state restarting;
 * the SIGKILLed tree exits (ignored); the new tree is spawned -> running. If the new runtime then
 * crashes -> exited, and onExit reports it.
 */
export type SandboxState = "running" | "exited" | "restarting" | "destroyed";
export type SandboxEvent = "exit" | "restart" | "respawned" | "respawn-failed" | "destroy";

export interface Transition {
  next: SandboxState;
  /** Tell the worker (onExit) about this exit. */
  reportExit: boolean;
}

/** Returns undefined when the event is not allowed in this state (the caller raises a typed error). */
export function transition(state: SandboxState, event: SandboxEvent): Transition | undefined {
  const to = (next: SandboxState, reportExit = false): Transition => ({ next, reportExit });
  if (event === "destroy") return to("destroyed");
  switch (state) {
    case "running":
      return event === "exit" ? to("exited", true) : event === "restart" ? to("restarting") : undefined;
    case "exited":
      return event === "restart" ? to("restarting") : undefined;
    case "restarting":
      return event === "exit" ? to("restarting") : event === "respawned" ? to("running") : event === "respawn-failed" ? to("exited") : undefined;
    case "destroyed":
      return event === "exit" || event === "respawned" || event === "respawn-failed" ? to("destroyed") : undefined;
  }
}
