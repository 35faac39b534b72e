/**
 * On a replicated bucket of nats-server 2.9, simultaneous claims of one key expecting the same
 * revision: exactly one wins every round (kv.update lets several win; see kv-claim.ts).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNats, type NatsCluster } from "../../test/support/nats.js";
import { writeIfUnchanged } from "./kv-claim.js";

let nats: NatsCluster;
const conns: NatsConnection[] = [];

before(async () => {
  nats = await startNats(3);
  // One client per server, as nodes of a cluster would be.
  const { connect } = await import("@nats-io/transport-node");
  for (const url of nats.urls) conns.push(await connect({ servers: url }));
});
after(async () => {
  for (const c of conns) await c.close();
  await nats?.close();
});

test("three nodes claiming the same revision at once: one winner per round, the others see the key moved", async (t) => {
  const kv = await new Kvm(conns[0]!).create("claim-test", { replicas: 3, history: 1 });
  let revision = await kv.put("p0", JSON.stringify({ holder: "none" }));
  const rounds = 40;
  for (let round = 0; round < rounds; round++) {
    const results = await Promise.all(conns.map((nc, i) => writeIfUnchanged(nc, "claim-test", "p0", JSON.stringify({ holder: `n${i}`, round }), revision)));
    const winners = results.filter((r) => r !== undefined);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
    revision = winners[0]!;
    // A claim with a stale revision never wins.
    assert.equal(await writeIfUnchanged(conns[1]!, "claim-test", "p0", "stale", revision - 1), undefined);
  }
  // Absent (0) and deleted keys are claimed the same way.
  await kv.delete("p0");
  const afterDelete = await Promise.all(conns.map((nc) => writeIfUnchanged(nc, "claim-test", "p0", "again", 0)));
  assert.equal(afterDelete.filter((r) => r !== undefined).length, 1);
  t.diagnostic(`${rounds} rounds of 3 simultaneous claims: one winner each`);
});
