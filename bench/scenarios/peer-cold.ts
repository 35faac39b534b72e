/**
 * Scenario 6 (cold): serverless-offline's cold starts with the same handler.
 *   - worker threads with --reloadHandler: every call gets a new worker thread, its fresh
 *     environment (one unmeasured call first, as for Kiln);
 *   - --useInProcess has no environments: a handler module is imported once per process and stays,
 *     so its only cold start is the first call after the server started; sampled over restarts.
 */
import http from "node:http";
import { num, spr, table } from "../format.js";
import { invokeOnce, served } from "../invoke-client.js";
import { BENCH_KEYS, REGION } from "../kiln.js";
import { PEER_FUNCTION, startPeer, type Peer, type PeerMode } from "../peers/serverless-offline.js";
import type { BenchContext, Plan } from "../plan.js";
import { InvokeSigner } from "../sigv4.js";
import { percentiles, spread, type Spread } from "../stats.js";

export interface PeerColdMode {
  mode: PeerMode;
  method: string;
  samplesPerRound: number;
  clientP50?: Spread;
  clientP99?: Spread;
  /** Process start to "listening", ms (restarts only). */
  startMs?: Spread;
  failed?: number;
  error?: string;
}

export interface PeerColdResult {
  plan: Plan["peerCold"];
  modes: PeerColdMode[];
  skipped?: string;
}

const signerFor = (peer: Peer): InvokeSigner => new InvokeSigner({ host: peer.host, functionName: PEER_FUNCTION, payload: "{}", region: REGION, credentials: BENCH_KEYS });

export async function run(ctx: BenchContext): Promise<PeerColdResult> {
  const { plan } = ctx;
  const install = await ctx.peer;
  if (!install.ok) return { plan: plan.peerCold, modes: [], skipped: install.detail };
  return { plan: plan.peerCold, modes: [await workerThreads(ctx), await inProcess(ctx)] };
}

async function workerThreads(ctx: BenchContext): Promise<PeerColdMode> {
  const { rounds, samples } = ctx.plan.peerCold;
  const mode: PeerColdMode = { mode: "worker", method: "--reloadHandler: a new worker thread per call", samplesPerRound: samples };
  const agent = new http.Agent({ keepAlive: true });
  let peer: Peer | undefined;
  try {
    peer = await startPeer("worker", { reloadHandler: true });
    const signer = signerFor(peer);
    await invokeOnce(agent, peer.url, signer);
    const p50: number[] = [];
    const p99: number[] = [];
    let failed = 0;
    for (let r = 1; r <= rounds; r++) {
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const a = await invokeOnce(agent, peer.url, signer);
        if (served(a)) ms.push(a.ms);
        else failed++;
      }
      const p = percentiles(ms);
      p50.push(p.p50);
      p99.push(p.p99);
      ctx.progress(`  serverless-offline worker round ${r}/${rounds}: client p50 ${num(p.p50)} ms p99 ${num(p.p99)} ms`);
    }
    return { ...mode, clientP50: spread(p50), clientP99: spread(p99), failed };
  } catch (e) {
    return { ...mode, error: (e as Error).message.split("\n")[0] ?? "failed" };
  } finally {
    agent.destroy();
    await peer?.stop();
  }
}

async function inProcess(ctx: BenchContext): Promise<PeerColdMode> {
  const { restarts } = ctx.plan.peerCold;
  const mode: PeerColdMode = { mode: "in-process", method: "first call after a server start", samplesPerRound: restarts };
  const ms: number[] = [];
  const starts: number[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < restarts; i++) {
      const peer = await startPeer("in-process");
      const agent = new http.Agent({ keepAlive: true });
      try {
        const a = await invokeOnce(agent, peer.url, signerFor(peer));
        starts.push(peer.startMs);
        if (served(a)) ms.push(a.ms);
        else failed++;
      } finally {
        agent.destroy();
        await peer.stop();
      }
    }
    const p = percentiles(ms);
    ctx.progress(`  serverless-offline --useInProcess over ${restarts} restart(s): first call p50 ${num(p.p50)} ms, start ${num(percentiles(starts).p50 / 1000, 1)} s`);
    // One round: the restarts are the samples.
    return { ...mode, clientP50: spread([p.p50]), clientP99: spread([p.p99]), startMs: spread(starts), failed };
  } catch (e) {
    return { ...mode, error: (e as Error).message.split("\n")[0] ?? "failed" };
  }
}

export function markdown(r: PeerColdResult): string {
  if (r.skipped !== undefined) return `Not measured: ${r.skipped}`;
  const rows = r.modes.map((m) =>
    m.error !== undefined
      ? [`serverless-offline ${m.mode}`, m.method, "not measured", "", m.error]
      : [`serverless-offline ${m.mode}`, m.method, spr(m.clientP50), spr(m.clientP99), `${m.samplesPerRound} per round, ${m.failed ?? 0} failed${m.startMs ? `; server start ${spr(m.startMs, 0)} ms` : ""}`],
  );
  return table(["peer", "fresh environment by", "client p50 ms", "client p99 ms", "samples"], rows);
}
