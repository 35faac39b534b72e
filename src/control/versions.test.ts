import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { configFingerprint } from "./versions.js";
import { testRegistry } from "./registry.test-support.js";
import type { FunctionRecord } from "./types.js";

const A = "000000000000";
const rejects = (p: Promise<unknown>, code: string, message: string | RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof KilnError && e.code === code && (typeof message === "string" ? e.message === message : message.test(e.message)));

test("the fingerprint covers code and configuration, not revision, state or tags", () => {
  const base = { name: "f", codeSha256: "abc", memorySize: 128, environment: { A: "1" }, revisionId: "r1", state: "Active", tags: {} } as unknown as FunctionRecord;
  const fp = configFingerprint(base);
  assert.equal(configFingerprint({ ...base, revisionId: "r2", state: "Pending", tags: { t: "x" }, lastModified: 5 }), fp);
  assert.equal(configFingerprint({ ...base, environment: { A: "1" } }), fp, "key order and copies do not matter");
  assert.notEqual(configFingerprint({ ...base, codeSha256: "abd" }), fp);
  assert.notEqual(configFingerprint({ ...base, environment: { A: "2" } }), fp);
  assert.notEqual(configFingerprint({ ...base, layers: ["arn:1"] } as unknown as FunctionRecord), fp, "fields added later count too");
});

test("the worked example: publish, nothing changed, update, delete, numbers never reused", async () => {
  const t = await testRegistry();
  try {
    const r = t.registry;
    await t.create("f");
    const v1 = await r.versions.publish(A, { name: "f" }, { description: "first" });
    assert.equal(v1.version, "1");
    assert.equal(v1.description, "first");
    assert.equal(v1.state, "Active");
    const again = await r.versions.publish(A, { name: "f" }, {});
    assert.equal(again.version, "1", "nothing changed: the same version");
    assert.equal(again.revisionId, v1.revisionId);

    await r.updateCode(A, { name: "f" }, { zipFile: Buffer.from("v2"), dryRun: false, publish: false });
    await rejects(r.versions.publish(A, { name: "f" }, {}), "ResourceConflictException", /An update is in progress/);
    await r.settled();
    const v2 = await r.versions.publish(A, { name: "f" }, {});
    assert.equal(v2.version, "2");
    assert.notEqual(v2.codeSha256, v1.codeSha256);
    assert.equal((await r.get(A, { name: "f" }, "1")).codeSha256, v1.codeSha256, "version 1 is immutable");

    await r.delete(A, { name: "f" }, "2");
    await rejects(r.get(A, { name: "f" }, "2"), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:2");
    assert.ok(t.changes.some((c) => c.kind === "version-deleted" && c.version === "2"));
    await r.updateConfiguration(A, { name: "f" }, { memorySize: 256 });
    await r.settled();
    assert.equal((await r.versions.publish(A, { name: "f" }, {})).version, "3");
    const listed = await r.versions.list(A, { name: "f" }, undefined, 50);
    assert.deepEqual(listed.versions.map((v) => v.version), ["$LATEST", "1", "3"]);
    const p1 = await r.versions.list(A, { name: "f" }, undefined, 2);
    assert.deepEqual(p1.versions.map((v) => v.version), ["$LATEST", "1"]);
    const p2 = await r.versions.list(A, { name: "f" }, p1.nextMarker, 2);
    assert.deepEqual(p2.versions.map((v) => v.version), ["3"]);
    assert.equal(p2.nextMarker, undefined);
    assert.equal((await r.usage(A)).totalCodeSize, 2 + 2 + 2, "$LATEST plus versions 1 and 3 count");
  } finally {
    await t.close();
  }
});

test("preconditions: RevisionId and CodeSha256 of $LATEST; nothing published on error", async () => {
  const t = await testRegistry();
  try {
    const r = t.registry;
    await t.create("f");
    const latest = await r.get(A, { name: "f" });
    await rejects(
      r.versions.publish(A, { name: "f" }, { revisionId: "nope" }),
      "PreconditionFailedException",
      "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    );
    await rejects(
      r.versions.publish(A, { name: "f" }, { codeSha256: "xyz" }),
      "InvalidParameterValueException",
      `CodeSHA256 (xyz) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
    assert.deepEqual((await r.versions.list(A, { name: "f" }, undefined, 50)).versions.map((v) => v.version), ["$LATEST"]);
    const v = await r.versions.publish(A, { name: "f" }, { revisionId: latest.revisionId, codeSha256: latest.codeSha256 });
    assert.equal(v.version, "1");
    await rejects(r.versions.publish(A, { name: "g" }, {}), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:g");
  } finally {
    await t.close();
  }
});

test("concurrent publishes of one change make one version", async () => {
  const t = await testRegistry();
  try {
    await t.create("f");
    const all = await Promise.all([1, 2, 3, 4].map(() => t.registry.versions.publish(A, { name: "f" }, {})));
    assert.deepEqual(new Set(all.map((v) => v.version)), new Set(["1"]));
  } finally {
    await t.close();
  }
});

test("deleting the function removes its versions, aliases and settings; a new one starts at 1", async () => {
  const t = await testRegistry();
  try {
    const r = t.registry;
    await t.create("f");
    await r.versions.publish(A, { name: "f" }, {});
    await r.aliases.create(A, { name: "f" }, { Name: "live", FunctionVersion: "1" });
    await r.concurrency.putReserved(A, { name: "f" }, 10);
    await r.concurrency.putProvisioned(A, { name: "f" }, "live", 2);
    await r.delete(A, { name: "f" });
    await t.create("f", "other");
    assert.deepEqual((await r.versions.list(A, { name: "f" }, undefined, 50)).versions.map((v) => v.version), ["$LATEST"]);
    assert.deepEqual(await r.aliases.all(A, "f"), []);
    assert.equal(await r.concurrency.reserved(A, { name: "f" }), undefined);
    assert.deepEqual(await r.concurrency.listProvisioned(A, "f"), []);
    assert.equal((await r.versions.publish(A, { name: "f" }, {})).version, "1");
  } finally {
    await t.close();
  }
});
