/**
 * CodeSha256: AWS's identity for a code package, the base64 SHA-256 of the zip bytes. Kiln stores
 * packages under the hex form of the same digest, which is safe in file names.
 */
import { createHash } from "node:crypto";
import { invalidParameter } from "../base/index.js";

export function codeSha256(zip: Buffer): string {
  return createHash("sha256").update(zip).digest("base64");
}

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The hex form of a CodeSha256. Refuses anything that is not a canonical base64 SHA-256. */
export function codeSha256ToHex(sha256: string): string {
  const bytes = BASE64_SHA256.test(sha256) ? Buffer.from(sha256, "base64") : undefined;
  if (bytes === undefined || bytes.toString("base64") !== sha256) throw invalidParameter(`Invalid CodeSha256: ${JSON.stringify(sha256)}`);
  return bytes.toString("hex");
}

export function hexToCodeSha256(hex: string): string {
  if (!HEX_SHA256.test(hex)) throw invalidParameter(`Invalid SHA-256 hex digest: ${JSON.stringify(hex)}`);
  return Buffer.from(hex, "hex").toString("base64");
}

export const isHexSha256 = (s: string): boolean => HEX_SHA256.test(s);
