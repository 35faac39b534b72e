/** The worker node's NATS subjects: environment deaths out, drain requests in. */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "../../base/index.js";

/** A worker reports an environment gone ({workerId, environmentId}): assignment forgets it. */
export const ENV_DEAD_SUBJECT = "kiln.env.dead";
export const drainSubject = (workerId: string): string => `kiln.worker.${workerId}.drain`;

export interface EnvironmentDeath {
  workerId: string;
  environmentId: string;
}

/** A function that publishes each environment death of `workerId` on kiln.env.dead. */
export function envDeathReporter(nc: NatsConnection, workerId: string): (environmentId: string) => void {
  return (environmentId) => nc.publish(ENV_DEAD_SUBJECT, JSON.stringify({ workerId, environmentId } satisfies EnvironmentDeath));
}

/** Calls `onDrain` on each message to kiln.worker.<id>.drain (answering requests with {state}). */
export function listenForDrain(nc: NatsConnection, workerId: string, onDrain: () => void, log: Logger): Subscription {
  return nc.subscribe(drainSubject(workerId), {
    callback: (err, msg) => {
      if (err) {
        log.warn("the drain subscription failed", { worker: workerId, error: String(err) });
        return;
      }
      onDrain();
      if (msg.reply) msg.respond(JSON.stringify({ workerId, state: "draining" }));
    },
  });
}
