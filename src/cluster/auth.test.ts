import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_NODE_CLOCK_SKEW_MS, NODE_DATE_HEADER, NODE_SIGNATURE_HEADER, NodeAuthError, signNodeRequest, verifyNodeRequest, type NodeRequest } from "./auth.js";

const SECRET = "cluster-secret-1";
const NOW = Date.UTC(2026, 0, 1);
const req: NodeRequest = { method: "POST", path: "/v1/environments/e1/invoke", body: Buffer.from('{"a":1}') };

const refusal = (fn: () => void): NodeAuthError => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NodeAuthError, String(e));
    return e;
  }
  assert.fail("expected the request to be refused");
};

test("a request signed with the shared secret verifies, within the window either way", () => {
  const headers = signNodeRequest(SECRET, req, NOW);
  assert.match(headers[NODE_SIGNATURE_HEADER]!, /^[0-9a-f]{64}$/);
  assert.equal(headers[NODE_DATE_HEADER], String(NOW));
  verifyNodeRequest(SECRET, { ...req, headers }, NOW);
  verifyNodeRequest(SECRET, { ...req, headers }, NOW + MAX_NODE_CLOCK_SKEW_MS);
  verifyNodeRequest(SECRET, { ...req, headers }, NOW - MAX_NODE_CLOCK_SKEW_MS);
  verifyNodeRequest(SECRET, { ...req, method: "post", headers }, NOW);
});

test("a tampered body, path, method or date is refused with 403 NodeSignatureMismatch", () => {
  const headers = signNodeRequest(SECRET, req, NOW);
  for (const tampered of [
    { ...req, body: Buffer.from('{"a":2}') },
    { ...req, path: "/v1/environments/e2/invoke" },
    { ...req, method: "DELETE" },
  ]) {
    const e = refusal(() => verifyNodeRequest(SECRET, { ...tampered, headers }, NOW));
    assert.equal(e.code, "NodeSignatureMismatch");
    assert.equal(e.status, 403);
  }
  const e = refusal(() => verifyNodeRequest(SECRET, { ...req, headers: { ...headers, [NODE_DATE_HEADER]: String(NOW + 1) } }, NOW));
  assert.equal(e.code, "NodeSignatureMismatch");
});

test("a signature by another secret is refused", () => {
  const headers = signNodeRequest("another-secret", req, NOW);
  const e = refusal(() => verifyNodeRequest(SECRET, { ...req, headers }, NOW));
  assert.equal(e.code, "NodeSignatureMismatch");
  assert.match(e.message, /cluster secret/);
});

test("a replay outside the 5-minute window (or a date too far ahead) is refused with 401 NodeSignatureExpired", () => {
  const headers = signNodeRequest(SECRET, req, NOW);
  const late = refusal(() => verifyNodeRequest(SECRET, { ...req, headers }, NOW + MAX_NODE_CLOCK_SKEW_MS + 1));
  assert.equal(late.code, "NodeSignatureExpired");
  assert.equal(late.status, 401);
  assert.match(late.message, /old/);
  const early = refusal(() => verifyNodeRequest(SECRET, { ...req, headers }, NOW - MAX_NODE_CLOCK_SKEW_MS - 1));
  assert.match(early.message, /ahead/);
});

test("missing or malformed headers are refused with 401 MissingNodeSignature", () => {
  const headers = signNodeRequest(SECRET, req, NOW);
  assert.equal(refusal(() => verifyNodeRequest(SECRET, { ...req, headers: {} }, NOW)).code, "MissingNodeSignature");
  assert.equal(refusal(() => verifyNodeRequest(SECRET, { ...req, headers: { [NODE_DATE_HEADER]: String(NOW) } }, NOW)).status, 401);
  assert.equal(refusal(() => verifyNodeRequest(SECRET, { ...req, headers: { ...headers, [NODE_DATE_HEADER]: "yesterday" } }, NOW)).code, "MissingNodeSignature");
  assert.equal(refusal(() => verifyNodeRequest(SECRET, { ...req, headers: { ...headers, [NODE_SIGNATURE_HEADER]: "00" } }, NOW)).code, "NodeSignatureMismatch");
});

test("invocation metadata (x-kiln-* headers) is signed: changed, added or removed, it is refused", () => {
  const meta = { "x-kiln-request-id": "r1", "x-kiln-timeout-ms": "3000", "content-type": "application/json" };
  const signed = { ...req, headers: meta };
  const headers = { ...meta, ...signNodeRequest(SECRET, signed, NOW) };
  verifyNodeRequest(SECRET, { ...req, headers }, NOW);
  verifyNodeRequest(SECRET, { ...req, headers: { ...headers, "content-type": "text/plain", "X-Other": "x" } }, NOW);
  for (const tampered of [
    { ...headers, "x-kiln-timeout-ms": "900000" },
    { ...headers, "x-kiln-invoked-arn": "arn:aws:lambda:us-east-1:000000000000:function:other" },
    Object.fromEntries(Object.entries(headers).filter(([k]) => k !== "x-kiln-request-id")),
  ]) {
    assert.equal(refusal(() => verifyNodeRequest(SECRET, { ...req, headers: tampered }, NOW)).code, "NodeSignatureMismatch");
  }
});
