/** `kiln node`: runs one cluster node with the given roles until Ctrl-C, SIGTERM, or (worker) the end of its lease. */
import { ConfigError } from "../../base/index.js";
import type { CliContext, CommandModule } from "../context.js";
import { closeWithin } from "../shutdown.js";
import { parseCommandArgs, parseIntOption, rejectExtraPositionals, UsageError } from "../usage.js";


export const usage = `Usage: kiln node --nats <servers> [--roles R1,R2] [--node-id ID] [--port N] [--worker-port N] [options]

Runs one node of a Kiln cluster on NATS JetStream. Any node runs any set of roles:
  frontend    the Lambda API (--port)            worker      hosts sandboxes (--worker-port)
  assignment  partition leaders and followers    pollers     runs asynchronous invocations
  control     finishes work of nodes that died   all         every role (the default)
Every node needs the same KILN_CLUSTER_SECRET (at least 32 characters, e.g. \`openssl rand -hex 32\`).

Options (each overrides its environment variable):
  --nats S          NATS servers, comma-separated (KILN_NATS), e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222
  --roles R         roles of this node (KILN_ROLES, default all)
  --node-id ID      unique name of this node (KILN_NODE_ID, default <hostname>-<pid>)
  --port N          frontend: Lambda API port (KILN_PORT, default 9900; 0 picks a free one)
  --host H          frontend: address to bind (KILN_HOST, default 127.0.0.1)
  --worker-port N   worker: port other nodes reach it on (KILN_WORKER_PORT, default 9901)
  --worker-host H   worker: address to bind (KILN_WORKER_HOST, default --host)
  --advertise H     worker: address other nodes use to reach this one (KILN_ADVERTISE_HOST)
  --data-dir D      local code cache, sandboxes (KILN_DATA_DIR, default ./.kiln)
  --isolation I     process (default), microvm, or none
  --partitions N    assignment partitions (KILN_PARTITIONS, default 8; the same on every node)
  --worker-lease-ms N  worker: lifetime before it drains and exits (KILN_WORKER_LEASE_MS, default 14 h)
  --worker-memory MB   worker: memory offered to sandboxes (KILN_WORKER_MEMORY_MB, default 90% of the host's)
  --capacity C      control: start and stop workers with demand (KILN_CAPACITY, default off), e.g.
                    local:min=1,max=4[,cooldown=60s][,interval=10s][,step=2][,memory=MB]
                    local = worker nodes as child processes of this node (see docs/cluster-capacity.md)`;

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs("node", argv, {
    nats: { type: "string" },
    roles: { type: "string" },
    "node-id": { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "worker-port": { type: "string" },
    "worker-host": { type: "string" },
    advertise: { type: "string" },
    "data-dir": { type: "string" },
    isolation: { type: "string" },
    partitions: { type: "string" },
    "worker-lease-ms": { type: "string" },
    "worker-memory": { type: "string" },
    capacity: { type: "string" },
  });
  if (help) {
    ctx.out(usage);
    return 0;
  }
  rejectExtraPositionals("node", positionals, 0);
  const { loadNodeConfig, parseCapacity, parseNatsServers, parseRoles } = await import("../../cluster/config.js");
  let config;
  try {
    const port = parseIntOption("node", "--port", values.port);
    const workerPort = parseIntOption("node", "--worker-port", values["worker-port"]);
    const partitions = parseIntOption("node", "--partitions", values.partitions);
    const workerLeaseMs = parseIntOption("node", "--worker-lease-ms", values["worker-lease-ms"]);
    const workerMemoryMB = parseIntOption("node", "--worker-memory", values["worker-memory"]);
    if (workerMemoryMB !== undefined && workerMemoryMB < 128) throw new UsageError(`--worker-memory must be at least 128 (MB), got ${workerMemoryMB}`, "node");
    if (values.isolation !== undefined && !["process", "none", "microvm"].includes(values.isolation)) {
      throw new UsageError(`--isolation must be "process", "microvm" or "none", got '${values.isolation}'`, "node");
    }
    config = loadNodeConfig(ctx.env, {
      ...(values.nats !== undefined ? { nats: parseNatsServers(values.nats) } : {}),
      ...(values.roles !== undefined ? { roles: parseRoles(values.roles) } : {}),
      ...(values["node-id"] !== undefined ? { nodeId: values["node-id"] } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(values.host !== undefined ? { host: values.host } : {}),
      ...(workerPort !== undefined ? { workerPort } : {}),
      ...(values["worker-host"] !== undefined ? { workerHost: values["worker-host"] } : {}),
      ...(values.advertise !== undefined ? { advertiseHost: values.advertise } : {}),
      ...(values["data-dir"] !== undefined ? { dataDir: values["data-dir"] } : {}),
      ...(values.isolation !== undefined ? { isolation: values.isolation as "process" | "none" | "microvm" } : {}),
      ...(partitions !== undefined ? { partitions } : {}),
      ...(workerLeaseMs !== undefined ? { workerLeaseMs } : {}),
      ...(workerMemoryMB !== undefined ? { workerMemoryMB } : {}),
      ...(values.capacity !== undefined ? { capacity: parseCapacity(values.capacity) } : {}),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message, "node");
    throw e;
  }
  if (ctx.signal.aborted) return 0;
  const { startNode } = await import("../../cluster/node.js");
  const { loadAsyncOptions } = await import("../../standalone/index.js");
  ctx.err(`kiln: starting node ${config.nodeId} (${[...config.roles].join(", ")}) on NATS ${config.nats.join(",")}…`);
  const node = await startNode(config, { async: loadAsyncOptions(ctx.env) });
  if (node.url) ctx.out(`Kiln node ${node.nodeId} is listening on ${node.url}`);
  if (node.workerUrl) ctx.out(`Kiln worker ${node.nodeId} serves sandboxes on ${node.workerUrl}`);
  ctx.out(`Kiln node ${node.nodeId} is up (${[...config.roles].join(", ")})`);

  const why = await new Promise<"signal" | "drained">((resolve) => {
    if (ctx.signal.aborted) resolve("signal");
    else ctx.signal.addEventListener("abort", () => resolve("signal"), { once: true });
    node.drained?.then(() => resolve("drained"));
  });
  ctx.err(why === "drained" ? `kiln: worker ${node.nodeId} drained, exiting` : "kiln: shutting down… (Ctrl-C again to force)");
  return closeWithin(() => node.close(), ctx);
}

export default { usage, run } satisfies CommandModule;
