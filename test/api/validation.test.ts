/**
 * End to end: bad input gets AWS's error name, status and a clear message, the server keeps
 * serving, and a hostile zip writes nothing outside the code store (nothing at all, in fact: the
 * store keeps only the packages of functions that exist). The data dir sits in a scratch
 * directory of its own so that "nothing escaped" can be checked on the whole tree around it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import yazl from "yazl";
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { ROLE, json, startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { plainFetch, signedFetch } from "../support/signed-fetch.js";

const SUPPORTED = ["nodejs20.x", "python3.11", "provided.al2023", "provided.al2"];
const OK_SOURCE = `exports.handler = async (e) => ({ ok: true, length: typeof e === "string" ? e.length : null, event: typeof e === "string" ? null : e });`;
/** A unique marker in every name a hostile zip tries to write, searched for afterwards. */
const EVIL = `evil-${randomBytes(4).toString("hex")}`;

/** Replaces every occurrence of `from` with `to` (same length) in a zip's bytes: names yazl refuses to write. */
function patchNames(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let hits = 0;
  for (let i = out.indexOf(needle); i >= 0; i = out.indexOf(needle, i + needle.length)) {
    Buffer.from(to).copy(out, i);
    hits++;
  }
  assert.equal(hits, 2, "the name appears once in the local header and once in the central directory");
  return out;
}

/** A copy of `zip` whose central directory declares `size` uncompressed bytes for entry `name`. */
function declareSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const eocd = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, "end of central directory");
  let at = out.readUInt32LE(eocd + 16);
  for (let i = 0; i < out.readUInt16LE(eocd + 10); i++) {
    assert.equal(out.readUInt32LE(at), 0x02014b50, "central directory entry");
    const nameLength = out.readUInt16LE(at + 28);
    if (out.toString("utf8", at + 46, at + 46 + nameLength) === name) {
      out.writeUInt32LE(size, at + 24);
      return out;
    }
    at += 46 + nameLength + out.readUInt16LE(at + 30) + out.readUInt16LE(at + 32);
  }
  throw new Error(`no entry ${name}`);
}

/** A zip of one entry of `bytes` zeros, deflated from a stream (a few hundred KB for 260 MB). */
function zerosZip(bytes: number): Promise<Buffer> {
  const chunk = Buffer.alloc(1 << 20);
  let left = bytes;
  const zeros = new Readable({
    read() {
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n > 0 ? chunk.subarray(0, n) : null);
    },
  });
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(OK_SOURCE), "index.js");
  zip.addReadStream(zeros, "zeros.bin");
  zip.end();
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on("data", (b: Buffer) => parts.push(b)).on("end", () => resolve(Buffer.concat(parts))).on("error", reject);
  });
}

/** Every path under `dir` (names only), for the escape checks. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}

describe("bad input: AWS errors, and the server keeps serving", { timeout: 120_000 }, () => {
  let scratch: string;
  let t: TestKiln;
  let c: LambdaClient;
  let goodZip: Buffer;
  let n = 0;
  const fresh = () => `bad-${++n}`;
  const create = (over: Partial<CreateFunctionCommandInput>) =>
    c.send(new CreateFunctionCommand({ FunctionName: fresh(), Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, Code: { ZipFile: goodZip }, ...over }));

  /** The server still answers, and the reference function still runs. */
  async function stillServing(): Promise<void> {
    const health = await plainFetch(t.url, "/healthz");
    assert.equal(health.status, 200);
    const r = await c.send(new InvokeCommand({ FunctionName: "ok", Payload: Buffer.from('{"still":"serving"}') }));
    assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
    assert.deepEqual(json(r.Payload), { ok: true, length: null, event: { still: "serving" } });
  }

  /** Functions created on purpose; the rejected creates must leave nothing else behind. */
  const accepted = new Set(["ok"]);
  async function onlyAccepted(): Promise<void> {
    const names = (await c.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName ?? "");
    assert.deepEqual(names?.sort(), [...accepted].sort());
  }

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "kiln-validation-"));
    chmodSync(scratch, 0o711); // the sandbox uid must traverse it to reach the data dir's code store
    t = await startKiln({}, join(scratch, "data"));
    c = t.client();
    goodZip = await zipFiles({ "index.js": OK_SOURCE });
    await t.deploy("ok", "nodejs20.x", "index.handler", { "index.js": OK_SOURCE });
  });

  after(async () => {
    await t?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("unsupported runtime: 400 InvalidParameterValueException listing the supported runtimes", async () => {
    const err = await rejectsAws(create({ Runtime: "nodejs14.x" as "nodejs20.x" }), { name: "InvalidParameterValueException", status: 400, message: /nodejs14\.x/ });
    for (const r of SUPPORTED) assert.ok(err.message.includes(r), `the message names ${r}: ${err.message}`);
    await rejectsAws(create({ Runtime: "java21" }), { name: "InvalidParameterValueException", status: 400, message: /java21/ });
    await onlyAccepted();
    await stillServing();
  });

  test("memory and timeout outside AWS's quotas: 400 ValidationException naming the field and the bound", async () => {
    await rejectsAws(create({ MemorySize: 64 }), { name: "ValidationException", status: 400, message: /'memorySize'.*greater than or equal to 128/ });
    await rejectsAws(create({ MemorySize: 20000 }), { name: "ValidationException", status: 400, message: /'memorySize'.*less than or equal to 10240/ });
    await rejectsAws(create({ Timeout: 0 }), { name: "ValidationException", status: 400, message: /'timeout'.*greater than or equal to 1/ });
    await rejectsAws(create({ Timeout: 901 }), { name: "ValidationException", status: 400, message: /'timeout'.*less than or equal to 900/ });
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ok", MemorySize: 10241 })), { name: "ValidationException", status: 400, message: /memorySize/ });
    await onlyAccepted();
    // The bounds themselves are allowed.
    const edge = await create({ FunctionName: "edge", MemorySize: 10240, Timeout: 900 });
    accepted.add("edge");
    assert.equal(edge.MemorySize, 10240);
    assert.equal(edge.Timeout, 900);
    await stillServing();
  });

  test("environment: over 4 KB and reserved keys are refused with AWS's messages; exactly 4 KB is fine", async () => {
    const measured = (v: number) => ({ Variables: { BIG: "x".repeat(v) } }); // JSON {"BIG":"..."} = 10 + v bytes
    const err = await rejectsAws(create({ Environment: measured(4087) }), {
      name: "InvalidParameterValueException",
      status: 400,
      message: /^Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit\. String measured: \{"BIG":"x+"\}$/,
    });
    assert.ok(err.message.length < 4096 + 200);
    await rejectsAws(create({ Environment: { Variables: { AWS_REGION: "eu-west-1", FINE: "1" } } }), {
      name: "InvalidParameterValueException",
      status: 400,
      message: /reserved keys.*Reserved keys used in this request: AWS_REGION$/,
    });
    await rejectsAws(c.send(new UpdateFunctionConfigurationCommand({ FunctionName: "ok", Environment: { Variables: { AWS_LAMBDA_FUNCTION_NAME: "x" } } })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: /AWS_LAMBDA_FUNCTION_NAME/,
    });
    assert.equal((await c.send(new GetFunctionConfigurationCommand({ FunctionName: "ok" }))).Environment, undefined, "the refused update changed nothing");
    const exact = await create({ FunctionName: "env-4k", Environment: measured(4086) });
    accepted.add("env-4k");
    assert.equal(exact.Environment?.Variables?.BIG?.length, 4086);
    await stillServing();
  });

  test("bad role, bad function names, wrong types: 400 with the field named", async () => {
    await rejectsAws(create({ Role: "not-a-role" }), { name: "ValidationException", status: 400, message: /'role'/ });
    await rejectsAws(create({ FunctionName: "bad name!" }), { name: "ValidationException", status: 400, message: /'functionName'/ });
    await rejectsAws(create({ FunctionName: "x".repeat(65) }), { name: "ValidationException", status: 400, message: /'functionName'/ });
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "no such/thing" })), { name: "ValidationException", status: 400, message: /functionName/ });
    await rejectsAws(c.send(new GetFunctionCommand({ FunctionName: "missing" })), {
      name: "ResourceNotFoundException",
      status: 404,
      message: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing",
    });
    const typed = await signedFetch(t.url, {
      method: "POST",
      path: "/2015-03-31/functions",
      body: JSON.stringify({ FunctionName: "typed", Runtime: "nodejs20.x", Handler: "index.handler", Role: ROLE, MemorySize: "lots", Code: { ZipFile: goodZip.toString("base64") } }),
    });
    assert.equal(typed.status, 400, typed.text);
    assert.equal(typed.errorType, "InvalidParameterValueException");
    assert.match(typed.message ?? "", /MemorySize/);
    await stillServing();
  });

  test("a malformed JSON body: 400 InvalidRequestContentException", async () => {
    for (const body of ['{"FunctionName": "half', "[1,2]", "not json at all"]) {
      const r = await signedFetch(t.url, { method: "POST", path: "/2015-03-31/functions", body, headers: { "content-type": "application/json" } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.errorType, "InvalidRequestContentException");
      assert.match(r.message ?? "", /^Could not parse request body into json/);
      assert.ok(r.headers.get("x-amzn-requestid"), "errors carry the request id");
    }
    const upd = await signedFetch(t.url, { method: "PUT", path: "/2015-03-31/functions/ok/configuration", body: "{oops" });
    assert.equal(upd.status, 400);
    assert.equal(upd.errorType, "InvalidRequestContentException");
    await onlyAccepted();
    await stillServing();
  });

  test("hostile zips are refused, and nothing is written outside (or inside) the code store", async () => {
    const codeRoot = join(t.dataDir, "code");
    const storedBefore = walk(codeRoot).sort();

    const notZip = Buffer.from("PK\u0003\u0004 this is not really a zip file");
    await rejectsAws(create({ Code: { ZipFile: notZip } }), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Could not unzip uploaded file. Please check your file, then try to upload again.",
    });

    const dotdot1 = patchNames(await zipFiles({ "index.js": OK_SOURCE, [`AA/${EVIL}`]: "pwned" }), `AA/${EVIL}`, `../${EVIL}`);
    const dotdot6 = patchNames(await zipFiles({ "index.js": OK_SOURCE, [`AA/AA/AA/AA/AA/AA/${EVIL}`]: "pwned" }), `AA/AA/AA/AA/AA/AA/${EVIL}`, `../../../../../../${EVIL}`);
    const absTarget = join(scratch, `${EVIL}-abs`);
    const absolute = patchNames(await zipFiles({ "index.js": OK_SOURCE, [`X${absTarget.slice(1)}`]: "pwned" }), `X${absTarget.slice(1)}`, absTarget);
    const linkThenWrite = await zipFiles({
      "index.js": OK_SOURCE,
      "out": { data: scratch, mode: 0o120777 },
      [`out/${EVIL}-via-link`]: "pwned",
    });
    const relativeLink = await zipFiles({ "index.js": OK_SOURCE, "up": { data: "../../../../../..", mode: 0o120777 } });
    const passwdLink = await zipFiles({ "index.js": OK_SOURCE, "passwd": { data: "/etc/passwd", mode: 0o120777 } });

    for (const [what, zip] of Object.entries({ dotdot1, dotdot6, absolute, linkThenWrite, relativeLink, passwdLink })) {
      await rejectsAws(create({ FunctionName: `zip-${what}`, Code: { ZipFile: zip } }), { name: "InvalidParameterValueException", status: 400, message: /^Zip entry ".*" is not allowed: / });
      // The same package as new code for an existing function.
      await rejectsAws(c.send(new UpdateFunctionCodeCommand({ FunctionName: "ok", ZipFile: zip })), { name: "InvalidParameterValueException", status: 400 });
    }

    const escaped = [...walk(scratch), ...readdirSync(tmpdir()).map((f) => join(tmpdir(), f)), ...readdirSync("/").map((f) => join("/", f))].filter((p) => p.includes(EVIL));
    assert.deepEqual(escaped, [], "no file of a hostile zip exists anywhere near the data dir");
    assert.ok(!existsSync(absTarget));
    const storedAfter = walk(codeRoot).sort();
    assert.deepEqual(storedAfter, storedBefore, "refused packages leave nothing in the code store, not even staging directories");
    await onlyAccepted();
    await stillServing();
  });

  test("a zip bomb over 250 MB unzipped is refused, declared honestly or not", async () => {
    const codeRoot = join(t.dataDir, "code");
    const storedBefore = walk(codeRoot).sort();
    const bomb = await zerosZip(262_144_000 + (1 << 20));
    assert.ok(bomb.length < 2_000_000, `the bomb is small zipped (${bomb.length} bytes)`);
    await rejectsAws(create({ Code: { ZipFile: bomb } }), { name: "InvalidParameterValueException", status: 400, message: "Unzipped size must be smaller than 262144000 bytes" });

    // The same bomb, its central directory claiming 1,000 bytes for zeros.bin.
    const liar = declareSize(bomb, "zeros.bin", 1000);
    await rejectsAws(create({ Code: { ZipFile: liar } }), { name: "InvalidParameterValueException", status: 400, message: /^(Could not unzip uploaded file\.|Unzipped size must be smaller than 262144000 bytes)/ });
    assert.deepEqual(walk(codeRoot).sort(), storedBefore, "nothing of the bombs stays in the code store");
    await onlyAccepted();
    await stillServing();
  });

  test("ZipFile over 50 MB: 413 RequestEntityTooLargeException; a body over the request limit likewise", async () => {
    const big = await zipFiles({ "index.js": OK_SOURCE, "blob.bin": { data: randomBytes(52_428_800), mode: 0o644 } });
    assert.ok(big.length > 52_428_800);
    await rejectsAws(create({ Code: { ZipFile: big } }), { name: "RequestEntityTooLargeException", status: 413, message: "Zipped size must be smaller than 52428800 bytes" });
    const huge = await signedFetch(t.url, { method: "POST", path: "/2015-03-31/functions", body: Buffer.alloc(70_167_212, 0x20) });
    assert.equal(huge.status, 413);
    assert.equal(huge.errorType, "RequestEntityTooLargeException");
    assert.equal(huge.message, "Request must be smaller than 70167211 bytes for the CreateFunction operation");
    await onlyAccepted();
    await stillServing();
  });

  test("invoke: payload over 6 MB is 413, exactly 6 MB runs; invalid JSON is 400; Event over 1 MB is 413", async () => {
    const six = 6_291_456;
    const stringOf = (bytes: number) => Buffer.from(`"${"a".repeat(bytes - 2)}"`);
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "ok", Payload: stringOf(six + 1) })), {
      name: "RequestEntityTooLargeException",
      status: 413,
      message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    });
    const atLimit = await c.send(new InvokeCommand({ FunctionName: "ok", Payload: stringOf(six) }));
    assert.equal(atLimit.FunctionError, undefined, Buffer.from(atLimit.Payload ?? []).toString().slice(0, 300));
    assert.deepEqual(json(atLimit.Payload), { ok: true, length: six - 2, event: null });

    for (const bad of ["{not json", '{"a":1', "\u00ff\u00fe"]) {
      await rejectsAws(c.send(new InvokeCommand({ FunctionName: "ok", Payload: Buffer.from(bad, bad.startsWith("\u00ff") ? "latin1" : "utf8") })), {
        name: "InvalidRequestContentException",
        status: 400,
        message: /^Could not parse request body into json: Could not parse payload into json/,
      });
    }
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "ok", InvocationType: "Event", Payload: stringOf(1_048_577) })), {
      name: "RequestEntityTooLargeException",
      status: 413,
      message: "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    });
    await rejectsAws(c.send(new InvokeCommand({ FunctionName: "ok", InvocationType: "Event", Payload: Buffer.from("{not json") })), {
      name: "InvalidRequestContentException",
      status: 400,
      message: /^Could not parse request body into json/,
    });
    const bogus = await signedFetch(t.url, { method: "POST", path: "/2015-03-31/functions/ok/invocations", body: "{}", headers: { "x-amz-invocation-type": "Sometimes" } });
    assert.equal(bogus.status, 400);
    assert.equal(bogus.errorType, "ValidationException");
    await stillServing();
  });
});
