/**
 * `kiln cluster status`: what the cluster looks like, read from NATS (nodes, partition leaders,
 * workers' heartbeats) and rendered as text. Reading is thin I/O; rendering is pure.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { readBucket } from "./kv-scan.js";
import { readNodes, type NodeRecord } from "./nodes.js";

export interface LeaderRecord {
  partition: number;
  nodeId: string;
  term: number;
  expiresAt: number;
}

export interface WorkerRecord {
  id: string;
  url: string;
  state: string;
  totalMemoryMB: number;
  freeMemoryMB: number;
  runningSandboxes: number;
  cpu: number;
  leaseEndsAt?: number;
  seenAt: number;
}

export interface ClusterSnapshot {
  now: number;
  nodes: Array<NodeRecord & { live: boolean }>;
  leaders: LeaderRecord[];
  partitions?: number;
  /** The control node running the capacity manager (key `capacity` of kiln-leaders), if any. */
  capacity?: { nodeId: string; term: number; expiresAt: number };
  workers: WorkerRecord[];
}

export async function readClusterSnapshot(nc: NatsConnection, now: number): Promise<ClusterSnapshot> {
  const [nodes, leaders, workers] = await Promise.all([
    readNodes(nc, now),
    readBucket<Omit<LeaderRecord, "partition">>(nc, "kiln-leaders"),
    readBucket<WorkerRecord>(nc, "kiln-workers"),
  ]);
  const capacity = leaders.find((l) => l.key === "capacity")?.value;
  return {
    now,
    nodes,
    ...(capacity ? { capacity: { nodeId: capacity.nodeId, term: capacity.term, expiresAt: capacity.expiresAt } } : {}),
    leaders: leaders
      .filter((l) => /^p\d+$/.test(l.key))
      .map((l) => ({ partition: Number(l.key.slice(1)), nodeId: l.value.nodeId, term: l.value.term, expiresAt: l.value.expiresAt }))
      .sort((a, b) => a.partition - b.partition),
    workers: workers.map((w) => w.value).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

export function duration(ms: number): string {
  if (ms <= 0) return "0s";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, "0")}m`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => "  " + r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

export function renderStatus(s: ClusterSnapshot): string {
  const lines: string[] = [];
  const live = s.nodes.filter((n) => n.live);
  lines.push(`Nodes: ${live.length} live${s.nodes.length > live.length ? `, ${s.nodes.length - live.length} not heard from` : ""}`);
  if (s.nodes.length > 0) {
    lines.push(
      ...table([
        ["NODE", "ROLES", "API", "WORKER", "UP", "SEEN"],
        ...s.nodes.map((n) => [n.id, n.roles.join(","), n.url ?? "-", n.workerUrl ?? "-", duration(s.now - n.startedAt), n.live ? `${duration(s.now - n.seenAt)} ago` : `GONE ${duration(s.now - n.seenAt)} ago`]),
      ]),
    );
  }
  lines.push("");
  const held = s.leaders.filter((l) => l.expiresAt > s.now);
  lines.push(`Assignment partitions: ${held.length} with a leader`);
  if (s.leaders.length > 0) {
    lines.push(
      ...table([
        ["PARTITION", "LEADER", "TERM", "LEASE"],
        ...s.leaders.map((l) => [String(l.partition), l.nodeId, String(l.term), l.expiresAt > s.now ? `${duration(l.expiresAt - s.now)} left` : "EXPIRED"]),
      ]),
    );
  }
  lines.push("");
  if (s.capacity && s.capacity.expiresAt > s.now) lines.push(`Capacity manager: on ${s.capacity.nodeId} (term ${s.capacity.term})`, "");
  lines.push(`Workers: ${s.workers.length}`);
  if (s.workers.length > 0) {
    lines.push(
      ...table([
        ["WORKER", "STATE", "SANDBOXES", "MEMORY FREE", "CPU", "LEASE LEFT", "URL"],
        ...s.workers.map((w) => [
          w.id,
          w.state,
          String(w.runningSandboxes),
          `${w.freeMemoryMB}/${w.totalMemoryMB} MB`,
          `${Math.round(w.cpu * 100)}%`,
          w.leaseEndsAt !== undefined ? duration(w.leaseEndsAt - s.now) : "-",
          w.url,
        ]),
      ]),
    );
  }
  return lines.join("\n");
}
