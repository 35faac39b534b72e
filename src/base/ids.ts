/** Identifiers: request ids, revision ids, account ids, access keys. */
import { randomBytes, randomUUID } from "node:crypto";

export const requestId = (): string => randomUUID();
export const revisionId = (): string => randomUUID();

/** A 12-digit AWS-style account id. */
export function accountId(): string {
  const n = randomBytes(6).readUIntBE(0, 6) % 1_000_000_000_000;
  return String(n).padStart(12, "0");
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export function accessKeyId(): string {
  const bytes = randomBytes(16);
  let out = "AKIA";
  for (let i = 0; i < 16; i++) out += KEY_ALPHABET[bytes[i]! % 32];
  return out;
}

export function secretAccessKey(): string {
  return randomBytes(30).toString("base64").replace(/[+/=]/g, "A").slice(0, 40);
}

/** Short random id for sandboxes and log streams. */
export const shortId = (): string => randomBytes(16).toString("hex");
