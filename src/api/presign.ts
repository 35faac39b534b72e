/** Time-limited download links for code packages (GetFunction's Code.Location). */
import { createHmac, timingSafeEqual } from "node:crypto";

export const CODE_LINK_TTL_MS = 10 * 60_000;

export class CodeLinks {
  constructor(private readonly secret: Buffer, private readonly baseUrl: () => string, private readonly now: () => number = Date.now) {}

  private sign(accountId: string, sha: string, expires: number): string {
    return createHmac("sha256", this.secret).update(`${accountId}\n${sha}\n${expires}`).digest("hex");
  }

  url(accountId: string, codeSha256: string): string {
    const sha = Buffer.from(codeSha256, "base64").toString("hex");
    const expires = Math.floor((this.now() + CODE_LINK_TTL_MS) / 1000);
    return `${this.baseUrl()}/kiln/2026-01-01/code/${accountId}/${sha}?Expires=${expires}&Signature=${this.sign(accountId, sha, expires)}`;
  }

  /** The package's CodeSha256 when the link is genuine and current; otherwise undefined. */
  check(accountId: string, shaHex: string, query: URLSearchParams): string | undefined {
    const expires = Number(query.get("Expires"));
    const sig = query.get("Signature") ?? "";
    if (!/^[0-9a-f]{64}$/.test(shaHex) || !Number.isInteger(expires) || expires * 1000 < this.now()) return undefined;
    const want = this.sign(accountId, shaHex, expires);
    if (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(want))) return undefined;
    return Buffer.from(shaHex, "hex").toString("base64");
  }
}
