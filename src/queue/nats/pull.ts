/**
 * The thin JetStream wire calls the queue needs and the client library does not offer as is: a
 * pull request with a short expiry (the client refuses expiries under a second, and a lease must
 * not block that long) and acknowledgements that wait for the server's reply (double ack), so a
 * settle resolves only once the consumer leader has processed it.
 *
 * A delivery's reply subject carries its metadata: `$JS.ACK.<stream>.<consumer>.<deliveries>.
 * <stream seq>.<consumer seq>.<timestamp>.<pending>` (or the longer form with domain and account
 * hash, 12+ tokens).
 */
import { createInbox, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";

export interface Delivery {
  reply: string;
  /** Stream sequence of the message. */
  seq: number;
  /** How many times JetStream delivered it, this delivery included. */
  deliveryCount: number;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
}

export function parseAckSubject(reply: string): { seq: number; deliveryCount: number } | undefined {
  const t = reply.split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK") return undefined;
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (at < 0) return undefined;
  const deliveryCount = Number(t[at]);
  const seq = Number(t[at + 1]);
  return Number.isSafeInteger(seq) && Number.isSafeInteger(deliveryCount) ? { seq, deliveryCount } : undefined;
}

/** Up to `batch` deliveries of a pull consumer, waiting at most `expiresMs` for them. */
export async function pull(nc: NatsConnection, stream: string, consumer: string, batch: number, expiresMs: number, api = "$JS.API"): Promise<Delivery[]> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox);
  const out: Delivery[] = [];
  const guard = setTimeout(() => sub.unsubscribe(), expiresMs + 2000);
  try {
    nc.publish(`${api}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify({ batch, expires: Math.round(expiresMs * 1e6) }), { reply: inbox });
    for await (const m of sub) {
      const meta = m.reply ? parseAckSubject(m.reply) : undefined;
      if (!meta) {
        const code = m.headers?.code ?? 0;
        if (code === 100) continue; // heartbeat
        if (code === 404 || code === 408 || code === 409) break; // no messages, expired, or the batch ended
        continue;
      }
      out.push({ reply: m.reply!, ...meta, data: m.data, headers: m.headers });
      if (out.length >= batch) break;
    }
  } finally {
    clearTimeout(guard);
    sub.unsubscribe();
  }
  return out;
}

export type AckKind = "+ACK" | "+TERM" | { nakDelayMs: number };

/** Sends an acknowledgement and waits for the server to confirm it processed it. */
export async function acknowledge(nc: NatsConnection, reply: string, kind: AckKind, timeoutMs = 5000): Promise<void> {
  const body = typeof kind === "string" ? kind : `-NAK ${JSON.stringify({ delay: Math.max(0, Math.round(kind.nakDelayMs * 1e6)) })}`;
  await nc.request(reply, body, { timeout: timeoutMs });
}
