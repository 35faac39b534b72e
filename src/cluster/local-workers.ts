/**
 * The local capacity provider as a node composes it (KILN_CAPACITY=local:...): worker nodes run as
 * child processes of this control node, `kiln node --roles worker` with this node's NATS servers,
 * environment (cluster secret, root keys, pool settings) and isolation, each with its own data
 * directory `<data dir>/capacity/<worker id>` (removed once the process exits). Removal asks the
 * worker to drain over NATS (kiln.worker.<id>.drain) and waits for it to exit.
 *
 * Each worker offers `memory=` MB to sandboxes, by default this host's share: 90% of the memory
 * divided by the maximum number of workers, so that `max` local workers do not promise the same
 * memory several times over.
 */
import { rm } from "node:fs/promises";
import { totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../base/index.js";
import { LocalProcessProvider } from "./capacity/index.js";
import type { CapacityConfig, NodeConfig } from "./config.js";
import { drainSubject } from "./workers/index.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));
/** After SIGTERM (node close), how long a local worker may take before SIGKILL: inside `kiln node`'s own close bound. */
const LOCAL_KILL_AFTER_MS = 5_000;

/** Memory each local worker offers to sandboxes. */
export function localWorkerMemoryMB(capacity: CapacityConfig, hostMemoryMB = totalmem() / 1048576): number {
  return capacity.workerMemoryMB ?? Math.max(128, Math.floor((hostMemoryMB * 0.9) / capacity.maxWorkers));
}

export function localWorkerProvider(config: NodeConfig, capacity: CapacityConfig, nc: NatsConnection, log: Logger): LocalProcessProvider {
  const dirOf = (id: string) => join(config.dataDir, "capacity", id);
  const memoryMB = localWorkerMemoryMB(capacity);
  return new LocalProcessProvider({
    command: process.execPath,
    args: (id) => [
      MAIN, "node",
      "--roles", "worker",
      "--node-id", id,
      "--nats", config.nats.join(","),
      "--port", "0",
      "--worker-port", "0",
      "--worker-host", config.workerHost,
      "--advertise", config.advertiseHost,
      "--data-dir", dirOf(id),
      "--isolation", config.isolation,
      "--worker-lease-ms", String(config.workerLeaseMs),
      "--worker-memory", String(memoryMB),
    ],
    // The workers do not manage capacity themselves.
    env: { KILN_CLUSTER_SECRET: config.clusterSecret, KILN_CAPACITY: "off" },
    log,
    idPrefix: `${config.nodeId.slice(0, 48)}-w`,
    drain: async (id) => {
      await nc.request(drainSubject(id), "", { timeout: 5_000 });
    },
    killAfterMs: LOCAL_KILL_AFTER_MS,
    onExit: (id) => void rm(dirOf(id), { recursive: true, force: true }).catch((e: unknown) => log.warn("removing a worker's data dir failed", { worker: id, error: String(e) })),
  });
}
