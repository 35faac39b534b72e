import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { systemClock } from "../../base/index.js";
import { startNats, type NatsCluster } from "../../../test/support/nats.js";
import { openLeadersBucket } from "../assignment/index.js";
import { quietLog } from "../workers/testkit.js";
import { CAPACITY_LEADER_KEY, DutyLeadership } from "./leadership.js";

let nats: NatsCluster;
let nc: NatsConnection;
before(async () => {
  nats = await startNats(1);
  nc = await nats.connect();
});
after(() => nats?.close());

const until = async (ok: () => boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

test("one of several nodes holds the duty; when it stops, another takes it over; a killed holder's lease expires", async () => {
  const kv = await openLeadersBucket(nc, 1);
  const events: string[] = [];
  const make = (nodeId: string) =>
    new DutyLeadership({ nc, kv, key: CAPACITY_LEADER_KEY, nodeId, clock: systemClock, log: quietLog, leaseMs: 600, onLead: () => events.push(`lead ${nodeId}`), onLose: (r) => events.push(`lose ${nodeId} ${r}`) });
  const nodes = [make("c1"), make("c2"), make("c3")];
  nodes.forEach((n) => n.start());
  await until(() => nodes.some((n) => n.leading));
  await new Promise((r) => setTimeout(r, 700)); // a lease later, still exactly one
  assert.equal(nodes.filter((n) => n.leading).length, 1);
  assert.equal(events.filter((e) => e.startsWith("lead")).length, 1, events.join(", "));
  const first = nodes.find((n) => n.leading)!;
  const firstId = events[0]!.split(" ")[1]!;
  const entry = await kv.get(CAPACITY_LEADER_KEY);
  assert.equal(JSON.parse(Buffer.from(entry!.value).toString()).nodeId, firstId);

  // A clean stop hands over at the next poll (the entry is deleted).
  const t0 = Date.now();
  await first.stop();
  assert.ok(events.includes(`lose ${firstId} closing`));
  const rest = nodes.filter((n) => n !== first);
  await until(() => rest.some((n) => n.leading));
  assert.ok(Date.now() - t0 < 600, `handed over in ${Date.now() - t0} ms`);

  // A holder that stops renewing (as if killed): its lease expires and the last one takes over.
  const second = rest.find((n) => n.leading)!;
  const third = rest.find((n) => n !== second)!;
  (second as unknown as { stopped: boolean }).stopped = true; // no more ticks, no hand-over
  await until(() => third.leading, 3_000);
  await third.stop();
  await second.stop();
  assert.equal(events.filter((e) => e.startsWith("lead")).length, 3, events.join(", "));
});
