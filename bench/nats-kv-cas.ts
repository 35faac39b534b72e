/**
 * Probe: does JetStream KV compare-and-set have a single winner on this nats-server? Starts a NATS
 * cluster (`test/support/nats.ts`, 3 nodes by default, bucket replicas = nodes), one client
 * connection per node, and measures:
 * - `counter`: 2 writers each doing `increments` read / `kv.update(key, v + 1, revision)` loops,
 *   retrying on 10071 (wrong last sequence); lost = successful updates - final value;
 * - `sameRevision`: `rounds` times, 3 writers update one key from the same revision at once;
 * - `createFresh`: 3 writers `kv.create` a key never written before;
 * - `createDeleted`: 3 writers `kv.create` a key whose last entry is a delete marker;
 * - `streamExpect`: 3 writers publish to the bucket's stream with `Nats-Expected-Last-Sequence`.
 * For the last four, the histogram of winners per round (a safe primitive only ever has `1`).
 *
 * Run alone: `node dist/bench/nats-kv-cas.js [--nodes 3] [--rounds 300] [--increments 400]`;
 * prints one JSON object. The figures quoted in `src/queue/nats/counters.ts` come from it
 * (nats-server 2.9.10). Not a test: the result describes the server, not Kiln.
 */
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { startNats } from "../test/support/nats.js";

const isConflict = (e: unknown): boolean => /wrong last sequence|10071|key exists|10164/.test(String((e as Error)?.message ?? e));

/** Winners of one round; any error but a CAS conflict is thrown. */
function winners(res: PromiseSettledResult<unknown>[]): number {
  for (const r of res) if (r.status === "rejected" && !isConflict(r.reason)) throw r.reason;
  return res.filter((r) => r.status === "fulfilled").length;
}

async function rounds(n: number, round: (r: number) => Promise<number>): Promise<Record<number, number>> {
  const hist: Record<number, number> = {};
  for (let r = 0; r < n; r++) {
    const w = await round(r);
    hist[w] = (hist[w] ?? 0) + 1;
  }
  return hist;
}

async function counter(kvs: KV[], increments: number): Promise<{ successes: number; final: number; lost: number; conflicts: number }> {
  await kvs[0]!.put("ctr", "0");
  let conflicts = 0;
  const loop = async (kv: KV) => {
    for (let i = 0; i < increments; i++) {
      for (;;) {
        const cur = (await kv.get("ctr"))!;
        try {
          await kv.update("ctr", String(Number(cur.string()) + 1), cur.revision);
          break;
        } catch (e) {
          if (!isConflict(e)) throw e;
          conflicts++;
        }
      }
    }
  };
  await Promise.all(kvs.slice(0, 2).map(loop));
  const final = Number((await kvs[0]!.get("ctr"))!.string());
  const successes = 2 * increments;
  return { successes, final, lost: successes - final, conflicts };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: "string", default: "3" }, rounds: { type: "string", default: "300" }, increments: { type: "string", default: "400" } } });
  const size = Number(values.nodes);
  const n = Number(values.rounds);
  const nats = await startNats(size);
  const ncs: NatsConnection[] = [];
  try {
    for (let i = 0; i < 3; i++) ncs.push(await connect({ servers: [nats.urls[i % size]!] }));
    const kvs: KV[] = [await new Kvm(ncs[0]!).create("probe", { replicas: size, history: 1 })];
    for (const nc of ncs.slice(1)) kvs.push(await new Kvm(nc).open("probe"));
    const jss = ncs.map((nc) => jetstream(nc));
    const jsm = await jetstreamManager(ncs[0]!);
    const all = <T>(f: (kv: KV, i: number) => Promise<T>) => Promise.allSettled(kvs.map(f));
    const result = {
      server: (ncs[0]!.info?.version ?? "?") as string,
      nodes: size,
      counter: await counter(kvs, Number(values.increments)),
      sameRevision: await rounds(n, async (r) => {
        const rev = (await kvs[0]!.get("ctr"))!.revision;
        return winners(await all((kv, i) => kv.update("ctr", `${r}-${i}`, rev)));
      }),
      createFresh: await rounds(n, async (r) => winners(await all((kv, i) => kv.create(`fresh.${r}`, `${i}`)))),
      createDeleted: await rounds(n, async (r) => {
        await kvs[0]!.delete(`fresh.${r}`);
        return winners(await all((kv, i) => kv.create(`fresh.${r}`, `${i}`)));
      }),
      streamExpect: await rounds(n, async (r) => {
        const last = (await jsm.streams.info("KV_probe")).state.last_seq;
        return winners(await Promise.allSettled(jss.map((js, i) => js.publish("$KV.probe.s", `${r}-${i}`, { expect: { lastSequence: last } }))));
      }),
    };
    console.log(JSON.stringify(result));
  } finally {
    await Promise.all(ncs.map((nc) => nc.close().catch(() => undefined)));
    await nats.close();
  }
}

await main();
