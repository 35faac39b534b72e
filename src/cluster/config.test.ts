import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../base/index.js";
import { DEFAULT_CAPACITY_INTERVAL_MS, loadNodeConfig, parseCapacity, parseNatsServers, parseRoles } from "./config.js";

const SECRET = "s".repeat(32);

test("roles: a list, all, unknown ones refused", () => {
  assert.deepEqual([...parseRoles("frontend, worker")], ["frontend", "worker"]);
  assert.equal(parseRoles("all").size, 5);
  assert.throws(() => parseRoles("frontend,router"), (e: unknown) => e instanceof ConfigError && /unknown role "router"/.test(e.message));
  assert.throws(() => parseRoles(" , "), ConfigError);
});

test("NATS servers: URLs or host:port, nothing else", () => {
  assert.deepEqual(parseNatsServers("nats://a:4222,nats://b:4222"), ["nats://a:4222", "nats://b:4222"]);
  assert.deepEqual(parseNatsServers("10.0.0.1:4222"), ["10.0.0.1:4222"]);
  assert.throws(() => parseNatsServers(""), /--nats/);
  assert.throws(() => parseNatsServers("http://a/b"), /not a NATS server/);
});

test("a node needs the cluster secret; replicas follow the NATS cluster size", () => {
  const env = { KILN_NATS: "nats://a:1,nats://b:2,nats://c:3", KILN_ROLES: "worker", KILN_NODE_ID: "w1" };
  assert.throws(() => loadNodeConfig(env), /KILN_CLUSTER_SECRET/);
  const c = loadNodeConfig({ ...env, KILN_CLUSTER_SECRET: SECRET });
  assert.equal(c.replicas, 3);
  assert.deepEqual([...c.roles], ["worker"]);
  assert.equal(c.nodeId, "w1");
  assert.equal(loadNodeConfig({ ...env, KILN_NATS: "nats://a:1", KILN_CLUSTER_SECRET: SECRET }).replicas, 1);
  assert.throws(() => loadNodeConfig({ ...env, KILN_CLUSTER_SECRET: SECRET, KILN_NODE_ID: "a b" }), /node id/);
  assert.throws(() => loadNodeConfig({ ...env, KILN_CLUSTER_SECRET: SECRET, KILN_PARTITIONS: "0" }), /KILN_PARTITIONS/);
});

test("capacity: off by default, local:min,max with optional cool-down, interval, step and memory", () => {
  const env = { KILN_NATS: "nats://a:1", KILN_CLUSTER_SECRET: SECRET, KILN_ROLES: "control", KILN_NODE_ID: "c1" };
  assert.equal(loadNodeConfig(env).capacity, undefined);
  assert.equal(parseCapacity("off"), undefined);
  assert.deepEqual(loadNodeConfig({ ...env, KILN_CAPACITY: "local:min=1,max=3" }).capacity, { provider: "local", minWorkers: 1, maxWorkers: 3, intervalMs: DEFAULT_CAPACITY_INTERVAL_MS });
  assert.deepEqual(parseCapacity(" local: min=0, max=5, cooldown=5s, interval=500ms, step=1, memory=1024 "), {
    provider: "local", minWorkers: 0, maxWorkers: 5, intervalMs: 500, coolDownMs: 5000, maxStep: 1, workerMemoryMB: 1024,
  });
  assert.equal(parseCapacity("local:min=1,max=2,cooldown=2m")?.coolDownMs, 120_000);
  // An explicit override wins over the environment, also to turn it off.
  assert.equal(loadNodeConfig({ ...env, KILN_CAPACITY: "local:min=1,max=3" }, { capacity: undefined }).capacity, undefined);
});

test("capacity: clear errors for what does not parse", () => {
  const bad: Array<[string, RegExp]> = [
    ["aws:min=1,max=2", /unknown provider "aws"/],
    ["local", /needs min and max/],
    ["local:min=1", /needs min and max/],
    ["local:min=3,max=2", /min \(3\) cannot exceed max \(2\)/],
    ["local:min=1,max=0", /max must be an integer between 1 and 1000/],
    ["local:min=-1,max=2", /min must be an integer/],
    ["local:min=1,max=2.5", /max must be an integer/],
    ["local:min=1,max=2,cooldown=5", /cooldown must be a duration like/],
    ["local:min=1,max=2,interval=10ms", /interval must be at least 100ms/],
    ["local:min=1,max=2,size=3", /unknown setting "size"/],
    ["local:min=1,max=2,min=2", /"min" is given twice/],
    ["local:min,max=2", /"min" has no value/],
    ["local:min=,max=2", /"min=" has no value/],
    ["local:min=1,max=2,memory=64", /memory must be an integer between 128/],
  ];
  for (const [raw, message] of bad) assert.throws(() => parseCapacity(raw), (e: unknown) => e instanceof ConfigError && message.test(e.message), raw);
  const env = { KILN_NATS: "nats://a:1", KILN_CLUSTER_SECRET: SECRET, KILN_NODE_ID: "c1" };
  assert.throws(() => loadNodeConfig({ ...env, KILN_CAPACITY: "local:max=2" }), /KILN_CAPACITY needs min and max/);
  assert.equal(loadNodeConfig({ ...env, KILN_WORKER_MEMORY_MB: "2048" }).workerMemoryMB, 2048);
  assert.throws(() => loadNodeConfig({ ...env, KILN_WORKER_MEMORY_MB: "12" }), /KILN_WORKER_MEMORY_MB/);
});
