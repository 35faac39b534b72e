/**
 * Where the client commands find Kiln and who they are: the endpoint from KILN_HOST/KILN_PORT,
 * the region from KILN_REGION (same defaults as the server, from base), and credentials from, in
 * order, KILN_ROOT_ACCESS_KEY_ID/KILN_ROOT_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
 * then the `[kiln]` profile of `<KILN_DATA_DIR or ./.kiln>/credentials`, which the server writes
 * on first start. Pure apart from reading that one file.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REGION } from "../base/index.js";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Target {
  /** e.g. http://127.0.0.1:9900 */
  endpoint: string;
  region: string;
  credentials: Credentials;
  /** Where the credentials came from, for error messages. */
  credentialSource: string;
}

export const CREDENTIALS_PROFILE = "kiln";

export class NoCredentialsError extends Error {
  override readonly name = "NoCredentialsError";
}

export class TargetConfigError extends Error {
  override readonly name = "TargetConfigError";
}

export function resolveEndpoint(env: NodeJS.ProcessEnv): string {
  const host = env.KILN_HOST || DEFAULT_HOST;
  const rawPort = env.KILN_PORT || String(DEFAULT_PORT);
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TargetConfigError(`KILN_PORT must be a port number, got "${rawPort}"`);
  // A server bound to every interface is reached through loopback.
  const connectHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${connectHost.includes(":") ? `[${connectHost}]` : connectHost}:${port}`;
}

/**
 * The profile's keys from an AWS shared-credentials file (INI: `[profile]` sections of
 * `key = value` lines, `#`/`;` comments). Returns undefined when the profile or a key is missing.
 */
export function parseCredentialsFile(text: string, profile: string): Credentials | undefined {
  let section: string | undefined;
  const keys: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    if (section !== profile) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    keys[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  const accessKeyId = keys.aws_access_key_id;
  const secretAccessKey = keys.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return keys.aws_session_token ? { accessKeyId, secretAccessKey, sessionToken: keys.aws_session_token } : { accessKeyId, secretAccessKey };
}

export function credentialsFilePath(env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, env.KILN_DATA_DIR || DEFAULT_DATA_DIR, "credentials");
}

export function resolveCredentials(
  env: NodeJS.ProcessEnv,
  cwd: string,
  readFile: (path: string) => string | undefined = readIfExists,
): { credentials: Credentials; source: string } {
  if (env.KILN_ROOT_ACCESS_KEY_ID && env.KILN_ROOT_SECRET_ACCESS_KEY) {
    return { credentials: { accessKeyId: env.KILN_ROOT_ACCESS_KEY_ID, secretAccessKey: env.KILN_ROOT_SECRET_ACCESS_KEY }, source: "KILN_ROOT_ACCESS_KEY_ID" };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const credentials: Credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
    return { credentials, source: "AWS_ACCESS_KEY_ID" };
  }
  const path = credentialsFilePath(env, cwd);
  const text = readFile(path);
  const fromFile = text === undefined ? undefined : parseCredentialsFile(text, CREDENTIALS_PROFILE);
  if (fromFile) return { credentials: fromFile, source: path };
  throw new NoCredentialsError(
    `no credentials for Kiln: ${text === undefined ? `${path} does not exist` : `${path} has no [${CREDENTIALS_PROFILE}] profile`}.\n` +
      "Start the server first (`npm start`, which writes that file), or set KILN_ROOT_ACCESS_KEY_ID and KILN_ROOT_SECRET_ACCESS_KEY " +
      "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or KILN_DATA_DIR to the server's data directory.",
  );
}

export function resolveTarget(env: NodeJS.ProcessEnv, cwd: string, readFile?: (path: string) => string | undefined): Target {
  const { credentials, source } = resolveCredentials(env, cwd, readFile);
  return { endpoint: resolveEndpoint(env), region: env.KILN_REGION || DEFAULT_REGION, credentials, credentialSource: source };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
