/**
 * Which Kiln nodes are up, with their roles and addresses: each node puts its record into the KV
 * bucket `kiln-nodes` every HEARTBEAT_MS; a record not refreshed for NODE_TTL_MS is stale (the
 * node died without deregistering). For `kiln cluster status`; nothing on the invoke path reads it.
 */
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import type { Clock } from "../base/index.js";
import { readBucket } from "./kv-scan.js";

export const NODES_BUCKET = "kiln-nodes";
const HEARTBEAT_MS = 2_000;
export const NODE_TTL_MS = 6_000;

export interface NodeRecord {
  id: string;
  roles: string[];
  host: string;
  pid: number;
  url?: string;
  workerUrl?: string;
  startedAt: number;
  seenAt: number;
}

export async function nodesBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  // The bucket's own age limit drops records of nodes long gone.
  return new Kvm(nc).create(NODES_BUCKET, { replicas, history: 1, ttl: 10 * NODE_TTL_MS });
}

export class NodeRegistry {
  private kv: KV | undefined;
  private timer: NodeJS.Timeout | undefined;
  private record: NodeRecord | undefined;

  constructor(private readonly d: { nc: NatsConnection; nodeId: string; roles: string[]; clock: Clock; replicas: number }) {}

  async start(addresses: { url?: string; workerUrl?: string }): Promise<void> {
    this.kv = await nodesBucket(this.d.nc, this.d.replicas);
    const now = this.d.clock.now();
    this.record = { id: this.d.nodeId, roles: this.d.roles, host: hostname(), pid: process.pid, ...addresses, startedAt: now, seenAt: now };
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), HEARTBEAT_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (!this.kv || !this.record) return;
    this.record.seenAt = this.d.clock.now();
    await this.kv.put(this.d.nodeId, JSON.stringify(this.record));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kv?.delete(this.d.nodeId).catch(() => undefined);
  }
}

/** Every node record, with whether it is still heartbeating as of `now`. */
export async function readNodes(nc: NatsConnection, now: number): Promise<Array<NodeRecord & { live: boolean }>> {
  const records = await readBucket<NodeRecord>(nc, NODES_BUCKET);
  return records.map(({ value: r }) => ({ ...r, live: now - r.seenAt < NODE_TTL_MS })).sort((a, b) => a.id.localeCompare(b.id));
}
