/**
 * Operating a cluster, end to end with real processes (1 NATS server for speed):
 * `kiln cluster status`, `kiln worker drain` under an in-flight invoke, and the capacity manager
 * (KILN_CAPACITY=local:...) starting worker processes to the minimum, adding them under load up
 * to the maximum and draining them back toward the minimum when the load stops.
 *
 * Workers started by the capacity manager are child processes of the control node: they are
 * counted from /proc (parent pid + command line), from their data directories
 * (<data dir>/capacity/<id>) and from the heartbeats in KV `kiln-workers`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { readBucket } from "../../src/cluster/kv-scan.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { deployNode, invokeJson, startCluster, type TestCluster } from "../support/cluster.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

const HANDLER = `
import { randomUUID } from "node:crypto";
const initId = randomUUID();
export const handler = async (event) => {
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { initId };
};`;

const deploy = (c: LambdaClient, name: string) => deployNode(c, name, HANDLER);
const invoke = (c: LambdaClient, name: string, event: object) => invokeJson<{ initId: string }>(c, name, event);

/** Runs the kiln CLI; resolves with its exit code and output. */
function kiln(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, KILN_LOG_LEVEL: "warn" }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Heartbeat {
  id: string;
  state: string;
  runningSandboxes: number;
  busy?: number;
  environmentsCreated?: number;
}

/** The workers' heartbeats (read without listing KV keys: see src/cluster/kv-scan.ts). */
async function heartbeats(nc: NatsConnection): Promise<Heartbeat[]> {
  return (await readBucket<Heartbeat>(nc, "kiln-workers")).map((e) => e.value).sort((a, b) => a.id.localeCompare(b.id));
}

const until = async (what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<number> => {
  const t0 = Date.now();
  while (!(await Promise.resolve().then(ok).catch(() => false))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
};

describe("cluster status and worker drain", { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let nc: NatsConnection;
  before(async () => {
    cluster = await startCluster(
      [
        { id: "f1", roles: ["frontend", "assignment", "control", "pollers"] },
        { id: "w1", roles: ["worker"] },
        { id: "w2", roles: ["worker"] },
      ],
      { natsNodes: 1, partitions: 4 },
    );
    nc = await cluster.nats.connect();
  });
  after(() => cluster?.close());

  test("kiln cluster status lists the nodes, the partitions with their leaders, and the workers", async (t) => {
    await until("both workers to heartbeat", async () => (await heartbeats(nc)).length === 2);
    await until("every partition to have a leader", async () => {
      const r = await kiln(["cluster", "status", "--nats", cluster.nats.servers, "--json"]);
      return r.code === 0 && (JSON.parse(r.stdout) as { leaders: unknown[] }).leaders.length === 4;
    });
    const t0 = Date.now();
    const r = await kiln(["cluster", "status", "--nats", cluster.nats.servers]);
    t.diagnostic(`kiln cluster status ran in ${Date.now() - t0} ms:\n${r.stdout}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Nodes: 3 live/m);
    assert.match(r.stdout, /^\s+f1\s+frontend,assignment,control,pollers\s+http:\/\/127\.0\.0\.1:\d+\s+-/m);
    for (const w of ["w1", "w2"]) assert.match(r.stdout, new RegExp(`^\\s+${w}\\s+worker\\s+-\\s+http://127\\.0\\.0\\.1:\\d+`, "m"));
    assert.match(r.stdout, /^Assignment partitions: 4 with a leader/m);
    for (let p = 0; p < 4; p++) assert.match(r.stdout, new RegExp(`^\\s+${p}\\s+f1\\s+\\d+\\s+\\d+s left`, "m"));
    assert.match(r.stdout, /^Workers: 2/m);
    for (const w of ["w1", "w2"]) assert.match(r.stdout, new RegExp(`^\\s+${w}\\s+active\\s+0\\s+\\d+/\\d+ MB`, "m"));
    assert.doesNotMatch(r.stdout, /Capacity manager/, "no capacity manager without KILN_CAPACITY");
  });

  test("kiln worker drain: the in-flight invoke finishes, the worker leaves and exits 0, later invokes run on the other worker", async (t) => {
    const c = cluster.client("f1");
    await deploy(c, "drainme");
    const warm = await invoke(c, "drainme", {});
    let hosts: Heartbeat[] = [];
    await until("the heartbeats to show the sandbox", async () => (hosts = (await heartbeats(nc)).filter((h) => h.runningSandboxes > 0)).length === 1);
    const victim = hosts[0]!.id;
    assert.equal(hosts[0]!.environmentsCreated, 1, "the heartbeat counts the environment created (the cold-start signal)");
    const other = victim === "w1" ? "w2" : "w1";

    const t0 = Date.now();
    const long = invoke(c, "drainme", { sleepMs: 2000 }).then((r) => ({ r, at: Date.now() - t0 }));
    await until(`the long invoke to be busy on ${victim}`, async () => (await heartbeats(nc)).find((h) => h.id === victim)?.busy === 1, 5_000);
    const drainStarted = Date.now() - t0;
    const drain = kiln(["worker", "drain", victim, "--nats", cluster.nats.servers, "--timeout", "60"]).then((r) => ({ ...r, at: Date.now() - t0 }));
    const [{ r: longResult, at: longAt }, cli] = await Promise.all([long, drain]);
    const code = await cluster.nodes.get(victim)!.exited;
    t.diagnostic(`drain asked at ${drainStarted} ms; the 2 s invoke finished at ${longAt} ms; the CLI returned at ${cli.at} ms: ${cli.stdout.trim().replace(/\n/g, " | ")}`);
    assert.equal(longResult.initId, warm.initId, "the long invoke ran on the warm sandbox of the drained worker");
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`worker ${victim} is draining`));
    assert.match(cli.stdout, new RegExp(`worker ${victim} drained and left the cluster`));
    assert.ok(cli.at >= longAt - 50, "the worker left only after its busy invoke finished");
    assert.equal(code, 0, `${victim} exit code\n${cluster.nodes.get(victim)!.output()}`);
    assert.deepEqual((await heartbeats(nc)).map((h) => h.id), [other]);

    const t1 = Date.now();
    const after = await invoke(c, "drainme", {});
    t.diagnostic(`first invoke after the drain (a cold start on ${other}): ${Date.now() - t1} ms`);
    assert.notEqual(after.initId, warm.initId);
    for (let i = 0; i < 3; i++) {
      const t2 = Date.now();
      const r = await invoke(c, "drainme", {});
      if (Date.now() - t2 > 5000) t.diagnostic(`SLOW invoke ${i}: ${Date.now() - t2} ms\n${cluster.nodes.get("f1")!.output().slice(-6000)}`);
      assert.equal(r.initId, after.initId);
    }
    await until(`the sandbox to show on ${other}`, async () => ((await heartbeats(nc)).find((h) => h.id === other)?.runningSandboxes ?? 0) >= 1, 5_000);
  });
});

/** Worker processes whose parent is `parentPid`, by the --node-id on their command line. */
function childWorkers(parentPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parentPid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const i = argv.indexOf("--node-id");
      if (argv.includes("worker") && i >= 0) out.set(argv[i + 1]!, Number(pid));
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("capacity manager (local worker processes)", { timeout: 300_000 }, () => {
  test("starts the minimum, adds workers under sustained load up to the maximum, drains back toward the minimum, stops them all on close", async (t) => {
    const t0 = Date.now();
    const at = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    const cluster = await startCluster(
      [{ id: "c1", roles: ["frontend", "assignment", "control", "pollers"], env: { KILN_CAPACITY: "local:min=1,max=3,cooldown=5s,interval=1s,step=1,memory=1024", KILN_LOG_LEVEL: "info" } }],
      { natsNodes: 1, partitions: 2 },
    );
    const seenPids = new Set<number>();
    let closed = false;
    try {
      const nc = await cluster.nats.connect();
      const c1 = cluster.nodes.get("c1")!;
      const capacityDir = join(cluster.dataDirOf("c1"), "capacity");
      const dirs = () => (existsSync(capacityDir) ? readdirSync(capacityDir).sort() : []);
      let maxProcesses = 0;
      const processes = () => {
        const p = childWorkers(c1.child.pid!);
        for (const pid of p.values()) seenPids.add(pid);
        maxProcesses = Math.max(maxProcesses, p.size);
        return p;
      };
      const sampler = setInterval(processes, 200);
      try {
        t.diagnostic(`control node up at ${at()}`);
        await until("the manager to start the minimum of 1 worker", async () => (await heartbeats(nc)).length === 1, 60_000);
        t.diagnostic(`1 worker (the minimum) joined at ${at()}`);
        const first = (await heartbeats(nc))[0]!.id;
        assert.match(first, /^c1-w-[0-9a-f]{8}$/);
        assert.deepEqual([...processes().keys()], [first]);
        assert.deepEqual(dirs(), [first]);
        const status = await kiln(["cluster", "status", "--nats", cluster.nats.servers]);
        assert.match(status.stdout, /Capacity manager: on c1/);

        const c = cluster.client("c1");
        await deploy(c, "load");
        await invoke(c, "load", {});
        t.diagnostic(`function deployed and invoked at ${at()}`);

        // Sustained load: 6 concurrent invokes of 1.5 s, each repeated, on workers of 4 slots (1024 MB / 256).
        let stop = false;
        let done = 0;
        const failures: string[] = [];
        const counts: Array<{ at: string; workers: number }> = [];
        const load = Promise.all(
          Array.from({ length: 6 }, async () => {
            while (!stop) {
              try {
                await invoke(c, "load", { sleepMs: 1500 });
                done++;
              } catch (e) {
                failures.push(String((e as Error).message));
              }
            }
          }),
        );
        const loadStart = Date.now();
        let last = 1;
        try {
          await until(
            "the manager to add workers up to the maximum of 3",
            async () => {
              const n = (await heartbeats(nc)).filter((h) => h.state === "active").length;
              if (n !== last) counts.push({ at: at(), workers: (last = n) });
              return n === 3;
            },
            90_000,
          );
          // Under load, at the maximum: 3 workers by their heartbeats, processes and data dirs.
          await until("3 worker processes and data dirs", () => processes().size === 3 && dirs().length === 3, 5_000);
          // Hold the load a little longer: nothing goes past the maximum.
          await new Promise((r) => setTimeout(r, 3000));
          assert.equal((await heartbeats(nc)).length, 3);
        } finally {
          stop = true;
          await load;
        }
        const loadMs = Date.now() - loadStart;
        t.diagnostic(`under load: ${counts.map((x) => `${x.workers} workers at ${x.at}`).join(", ")}; ${done} invokes in ${loadMs} ms, ${failures.length} failed`);
        assert.deepEqual(failures, []);
        assert.ok(maxProcesses <= 3, `at most 3 worker processes, saw ${maxProcesses}`);

        const idleFrom = Date.now();
        const down: string[] = [];
        let lastN = 3;
        await until(
          "the manager to drain back to the minimum of 1",
          async () => {
            const n = (await heartbeats(nc)).length;
            if (n !== lastN) down.push(`${(lastN = n)} at ${at()}`);
            return n === 1 && processes().size === 1 && dirs().length === 1;
          },
          90_000,
        );
        t.diagnostic(`load stopped; back to 1 worker after ${Date.now() - idleFrom} ms (${down.join(", ")})`);
        // It stays at the minimum.
        await new Promise((r) => setTimeout(r, 2500));
        assert.equal((await heartbeats(nc)).length, 1);
        assert.equal(processes().size, 1);
        assert.ok(maxProcesses <= 3, `at most 3 worker processes, saw ${maxProcesses}`);
        await invoke(c, "load", {});
        t.diagnostic(`invoke after the scale-down ok at ${at()}; ${seenPids.size} worker processes started in all`);
        const decisions = c1
          .output()
          .split("\n")
          .filter((l) => /\[capacity\] (adding workers|removing a worker|took up)/.test(l))
          .map((l) => l.replace(/^\S+T(\S+)Z INFO \[capacity\] /, "$1 "));
        t.diagnostic(`the manager's decisions:\n${decisions.join("\n")}`);
        assert.ok(seenPids.size >= 3);
        await nc.close();
      } finally {
        clearInterval(sampler);
      }
      const closeStart = Date.now();
      await cluster.close();
      closed = true;
      t.diagnostic(`cluster closed in ${Date.now() - closeStart} ms`);
      const left = [...seenPids].filter(alive);
      assert.deepEqual(left, [], "every worker process the manager started is stopped when the control node closes");
    } finally {
      if (!closed) await cluster.close();
      for (const pid of seenPids) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
