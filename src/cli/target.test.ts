import { test } from "node:test";
import assert from "node:assert/strict";
import { NoCredentialsError, parseCredentialsFile, resolveEndpoint, resolveTarget } from "./target.js";

const FILE = `# written by kiln server
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = default-secret

[kiln]
aws_access_key_id=AKIAKILN
aws_secret_access_key = kiln/secret+key=
`;

test("reads the [kiln] profile of a shared-credentials file", () => {
  assert.deepEqual(parseCredentialsFile(FILE, "kiln"), { accessKeyId: "AKIAKILN", secretAccessKey: "kiln/secret+key=" });
  assert.equal(parseCredentialsFile(FILE, "other"), undefined);
  assert.equal(parseCredentialsFile("[kiln]\naws_access_key_id = A\n", "kiln"), undefined);
});

test("credentials: KILN_ROOT_* first, then AWS_*, then the file in KILN_DATA_DIR", () => {
  const files: Record<string, string> = { "/data/credentials": FILE };
  const read = (p: string): string | undefined => files[p];
  const both = { KILN_ROOT_ACCESS_KEY_ID: "AKIAROOT", KILN_ROOT_SECRET_ACCESS_KEY: "root", AWS_ACCESS_KEY_ID: "AKIAAWS", AWS_SECRET_ACCESS_KEY: "aws" };
  assert.equal(resolveTarget(both, "/", read).credentials.accessKeyId, "AKIAROOT");
  assert.equal(resolveTarget({ AWS_ACCESS_KEY_ID: "AKIAAWS", AWS_SECRET_ACCESS_KEY: "aws", KILN_DATA_DIR: "/data" }, "/", read).credentials.accessKeyId, "AKIAAWS");
  assert.equal(resolveTarget({ KILN_DATA_DIR: "/data" }, "/", read).credentials.accessKeyId, "AKIAKILN");
  assert.equal(resolveTarget({ KILN_DATA_DIR: "data" }, "/", read).credentialSource, "/data/credentials");
});

test("no credentials anywhere: says to start the server or set the variables", () => {
  assert.throws(
    () => resolveTarget({ KILN_ROOT_ACCESS_KEY_ID: "only-half" }, "/nowhere", () => undefined),
    (e: unknown) => e instanceof NoCredentialsError && /npm start/.test(e.message) && /KILN_ROOT_ACCESS_KEY_ID/.test(e.message),
  );
});

test("endpoint and region defaults match the server's", () => {
  const t = resolveTarget({ AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S" }, "/");
  assert.equal(t.endpoint, "http://127.0.0.1:9900");
  assert.equal(t.region, "us-east-1");
  assert.equal(resolveEndpoint({ KILN_HOST: "0.0.0.0", KILN_PORT: "8080" }), "http://127.0.0.1:8080");
  assert.equal(resolveEndpoint({ KILN_HOST: "::1", KILN_PORT: "8080" }), "http://[::1]:8080");
  assert.throws(() => resolveEndpoint({ KILN_PORT: "http" }), /KILN_PORT/);
});
