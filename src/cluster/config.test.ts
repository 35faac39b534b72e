import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../base/index.js";
import { loadNodeConfig, parseNatsServers, parseRoles } from "./config.js";

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
