/** The root key pair on disk: `<data dir>/credentials` (AWS shared-credentials format, profile `kiln`) and `<data dir>/config`. */
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const PROFILE = "kiln";

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}

export async function writeCredentialFiles(dataDir: string, keys: { accessKeyId: string; secretAccessKey: string }, region: string): Promise<void> {
  await writeAtomic(
    join(dataDir, "credentials"),
    `# Written by Kiln: the root account's key pair.\n[${PROFILE}]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
  );
  await writeAtomic(join(dataDir, "config"), `# Written by Kiln.\n[profile ${PROFILE}]\nregion = ${region}\n`);
}

/** A server-wide secret (for signing code download links), made once. */
export async function serverSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, "server-secret");
  try {
    const s = await readFile(path);
    if (s.length >= 32) return s;
  } catch {
    /* first start */
  }
  const secret = randomBytes(32);
  await writeAtomic(path, secret);
  return secret;
}
