/**
 * Names of the JetStream resources behind one async queue, and the lane encoding: a lane
 * (`<accountId>/<functionName>`) becomes one token usable in subjects, KV keys and consumer
 * names: bytes outside [A-Za-z0-9-] are written `_XX` (hex of the UTF-8 byte), so
 * `000000000000/my_fn` -> `000000000000_2Fmy_5Ffn`. Decoding is exact.
 */
export interface QueueNames {
  /** The work-queue stream (default `KILN_ASYNC`). */
  stream: string;
  /** Subject prefix: lane subjects are `<prefix>.<token>` (default `kiln.async`). */
  prefix: string;
  /** KV bucket of counters and recent drops (per queue instance) and lease records (default `kiln-async-counters`). */
  bucket: string;
}

export const DEFAULT_NAMES: QueueNames = { stream: "KILN_ASYNC", prefix: "kiln.async", bucket: "kiln-async-counters" };

export function laneToken(lane: string): string {
  let out = "";
  for (const byte of Buffer.from(lane, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function laneOfToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "_") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

export const laneSubject = (n: QueueNames, lane: string): string => `${n.prefix}.${laneToken(lane)}`;
/** One queue instance's counters of a lane (`instance` is its id, see `isInstanceId`): each key has one writer. */
export const counterKey = (lane: string, instance: string): string => `c.${laneToken(lane)}.${instance}`;
/** Every instance's counter key of the lane. */
export const counterFilter = (lane: string): string => `c.${laneToken(lane)}.*`;
/** One queue instance's recent drops of a lane. */
export const dropsKey = (lane: string, instance: string): string => `d.${laneToken(lane)}.${instance}`;
export const dropsFilter = (lane: string): string => `d.${laneToken(lane)}.*`;
/** An instance id is one key token: letters, digits, `-` and `_`. */
export const isInstanceId = (id: string): boolean => /^[A-Za-z0-9_-]{1,64}$/.test(id);
export const recordKey = (lane: string, seq: number): string => `l.${laneToken(lane)}.${seq}`;
export const recordFilter = (lane?: string): string => (lane === undefined ? "l.>" : `l.${laneToken(lane)}.*`);

/** Receipt = stream sequence and delivery count in one safe integer: later copies and later deliveries compare greater. */
const DC_SPACE = 65_536;
export const receiptOf = (seq: number, deliveryCount: number): number => seq * DC_SPACE + Math.min(deliveryCount, DC_SPACE - 1);
export const seqOfReceipt = (receipt: number): number => Math.floor(receipt / DC_SPACE);
