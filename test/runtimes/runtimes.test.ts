/**
 * The in-sandbox language runtimes (src/runtimes/nodejs, src/runtimes/python) against a fake
 * Runtime API: results, handler styles, error payload shapes, init errors, log records, context.
 * Each test starts the real runtime as a child process (no sandbox) with a scratch task dir.
 *
 * Run: npx tsc -p tsconfig.json && node --test dist/test/runtimes/
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { describe, it } from "node:test";
import { FakeRuntimeApi, PYTHON, makeTaskDir, startRuntime, startSession, type Session } from "./fake-runtime-api.js";

const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
const T = { timeout: 20_000 };

async function withSession(
  runtime: "nodejs" | "python",
  files: Record<string, string>,
  handler: string,
  fn: (s: Session) => Promise<void>,
  opts: Parameters<typeof startSession>[3] = {},
): Promise<void> {
  const s = await startSession(runtime, files, handler, opts);
  try {
    await fn(s);
  } catch (err) {
    // Show what the runtime said: most failures are explained by its stdout/stderr.
    throw new Error(`${String(err)}\n--- runtime stdout:\n${s.rt.stdout()}\n--- runtime stderr:\n${s.rt.stderr()}`, { cause: err });
  } finally {
    await s.close();
  }
}

/** Invoke and parse a successful JSON response. */
async function ok(s: Session, event: unknown, opts?: Parameters<FakeRuntimeApi["invoke"]>[1]): Promise<unknown> {
  const r = await s.api.invoke(event, opts);
  assert.equal(r.kind, "response", `expected a response, got error ${r.body}`);
  return JSON.parse(r.body);
}

async function fails(s: Session, event: unknown = {}): Promise<{ body: Record<string, unknown>; errorType: string | undefined }> {
  const r = await s.api.invoke(event);
  assert.equal(r.kind, "error", `expected an error, got response ${r.body}`);
  return { body: JSON.parse(r.body) as Record<string, unknown>, errorType: r.errorType };
}

describe("nodejs runtime", () => {
  it("runs a CommonJS async handler: result, context, trace id, log records", T, async (t) => {
    const files = {
      "index.js": `
        console.log("init phase");
        exports.handler = async (event, context) => {
          console.log("event %s", event.name, { n: 1 });
          console.info("info"); console.warn("warn"); console.error("error"); console.debug("debug"); console.trace("trace");
          console.log("two\\nlines");
          return {
            event, traceId: process.env._X_AMZN_TRACE_ID ?? null,
            awsRequestId: context.awsRequestId, invokedFunctionArn: context.invokedFunctionArn,
            functionName: context.functionName, functionVersion: context.functionVersion,
            memoryLimitInMB: context.memoryLimitInMB, logGroupName: context.logGroupName,
            logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),
            clientContext: context.clientContext ?? null, identity: context.identity ?? null,
            waits: context.callbackWaitsForEmptyEventLoop,
            legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
          };
        };`,
    };
    await withSession("nodejs", files, "index.handler", async (s) => {
      const r = await s.api.invoke(
        { name: "first" },
        { requestId: "req-1", traceId: "Root=1-65f0-abc;Parent=def;Sampled=1", timeoutMs: 3000, clientContext: { custom: { a: 1 } }, identity: { cognitoIdentityId: "id-1" } },
      );
      assert.equal(r.kind, "response");
      const body = JSON.parse(r.body) as Record<string, unknown>;
      assert.deepEqual(body.event, { name: "first" });
      assert.equal(body.traceId, "Root=1-65f0-abc;Parent=def;Sampled=1");
      assert.equal(body.awsRequestId, "req-1");
      assert.equal(body.invokedFunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:fn");
      assert.equal(body.functionName, "fn");
      assert.equal(body.functionVersion, "$LATEST");
      assert.equal(body.memoryLimitInMB, "256");
      assert.equal(body.logGroupName, "/aws/lambda/fn");
      assert.equal(body.logStreamName, "2024/01/02/[$LATEST]0123456789abcdef");
      assert.deepEqual(body.clientContext, { custom: { a: 1 } });
      assert.deepEqual(body.identity, { cognitoIdentityId: "id-1" });
      assert.equal(body.waits, true);
      assert.deepEqual(body.legacy, ["function", "function", "function"]);
      const remaining = body.remaining as number;
      assert.ok(remaining > 0 && remaining <= 3000, `remaining ${remaining}`);

      const out = await s.rt.waitForStdout("two\nlines");
      assert.match(out, new RegExp(`^${ISO}\tundefined\tINFO\tinit phase\n`, "m"));
      assert.match(out, new RegExp(`^${ISO}\treq-1\tINFO\tevent first { n: 1 }\n`, "m"));
      for (const [level, text] of [["INFO", "info"], ["WARN", "warn"], ["ERROR", "error"], ["DEBUG", "debug"], ["TRACE", "trace"]]) {
        assert.match(out, new RegExp(`^${ISO}\treq-1\t${level}\t${text}\n`, "m"));
      }
      assert.match(out, new RegExp(`^${ISO}\treq-1\tINFO\ttwo\nlines\n`, "m"));

      // Second invocation on the same process: new id in logs, no trace header -> env var removed.
      const second = (await ok(s, { name: "second" }, { requestId: "req-2" })) as Record<string, unknown>;
      assert.equal(second.awsRequestId, "req-2");
      assert.equal(second.traceId, null);
      assert.match(await s.rt.waitForStdout("event second"), new RegExp(`^${ISO}\treq-2\tINFO\tevent second`, "m"));
      assert.equal(s.api.connections, 1, "one keep-alive connection for all requests");
      if (s.api.firstNextAt !== undefined) t.diagnostic(`nodejs spawn -> first GET /next: ${(s.api.firstNextAt - s.rt.spawnedAt).toFixed(1)} ms`);
    });
  });

  it("loads ES modules: .mjs, and .js under a package.json with type module", T, async () => {
    await withSession("nodejs", { "app.mjs": "export const handler = async (e) => ({ esm: true, e });" }, "app.handler", async (s) => {
      assert.deepEqual(await ok(s, { x: 1 }), { esm: true, e: { x: 1 } });
    });
    const files = {
      "package.json": JSON.stringify({ type: "module" }),
      "src/index.js": "export async function handler() { return typeof require === 'undefined' && import.meta.url.startsWith('file:'); }",
    };
    await withSession("nodejs", files, "src/index.handler", async (s) => {
      assert.equal(await ok(s, {}), true);
    });
  });

  it("loads CommonJS: .js without type module, .cjs, nested directories and properties", T, async () => {
    await withSession("nodejs", { "index.js": "module.exports = { handler: async () => typeof require === 'function' };" }, "index.handler", async (s) => {
      assert.equal(await ok(s, {}), true);
    });
    const files = { "lib/fns/work.cjs": "exports.api = { v1: { handler: async (e) => 'nested ' + e.n } };" };
    await withSession("nodejs", files, "lib/fns/work.api.v1.handler", async (s) => {
      assert.equal(await ok(s, { n: 7 }), "nested 7");
    });
  });

  it("supports callback handlers, legacy context methods and plain return values", T, async () => {
    const files = {
      "index.js": `
        exports.cb = (event, context, callback) => { setTimeout(() => callback(null, { cb: event.n }), 5); };
        exports.cbError = (event, context, callback) => callback(new Error("cb failed"));
        exports.cbString = (event, context, callback) => callback("plain string");
        exports.succeed = (event, context) => { setTimeout(() => context.succeed("legacy"), 5); };
        exports.sync = (event) => event.n * 2;
        exports.nothing = () => {};
      `,
    };
    await withSession("nodejs", files, "index.cb", async (s) => {
      assert.deepEqual(await ok(s, { n: 3 }), { cb: 3 });
    });
    await withSession("nodejs", files, "index.cbError", async (s) => {
      const { body } = await fails(s);
      assert.equal(body.errorType, "Error");
      assert.equal(body.errorMessage, "cb failed");
    });
    await withSession("nodejs", files, "index.cbString", async (s) => {
      assert.deepEqual((await fails(s)).body, { errorType: "string", errorMessage: "plain string", trace: [] });
    });
    await withSession("nodejs", files, "index.succeed", async (s) => {
      assert.equal(await ok(s, {}), "legacy");
    });
    await withSession("nodejs", files, "index.sync", async (s) => {
      assert.equal(await ok(s, { n: 21 }), 42);
    });
    // A sync handler that never completes answers null once the event loop is empty (as on AWS).
    await withSession("nodejs", files, "index.nothing", async (s) => {
      assert.equal(await ok(s, {}), null);
    });
  });

  it("reports a thrown error as {errorType, errorMessage, trace} and keeps serving", T, async () => {
    const files = {
      "index.js": `exports.handler = async (event) => { if (event.fail) throw new TypeError("bad input"); return "fine"; };`,
    };
    await withSession("nodejs", files, "index.handler", async (s) => {
      const r = await s.api.invoke({ fail: true }, { requestId: "req-err" });
      assert.equal(r.kind, "error");
      assert.equal(r.errorType, "TypeError");
      const body = JSON.parse(r.body) as { errorType: string; errorMessage: string; trace: string[] };
      assert.deepEqual(Object.keys(body), ["errorType", "errorMessage", "trace"]);
      assert.equal(body.errorType, "TypeError");
      assert.equal(body.errorMessage, "bad input");
      assert.equal(body.trace[0], "TypeError: bad input");
      assert.match(body.trace[1] ?? "", /index\.js:1:/);
      const out = await s.rt.waitForStdout("Invoke Error");
      assert.match(out, new RegExp(`^${ISO}\treq-err\tERROR\tInvoke Error \t\\{"errorType":"TypeError","errorMessage":"bad input"`, "m"));
      assert.equal(await ok(s, {}), "fine");
    });
  });

  it("reports init errors: missing module, missing handler, malformed name, syntax error, throwing init", T, async () => {
    const cases: Array<{ files: Record<string, string>; handler: string; type: string; message: RegExp }> = [
      { files: {}, handler: "nope.handler", type: "Runtime.ImportModuleError", message: /^Error: Cannot find module 'nope'\nRequire stack:/ },
      { files: { "index.js": "exports.other = () => 1;" }, handler: "index.handler", type: "Runtime.HandlerNotFound", message: /^index\.handler is undefined or not exported$/ },
      { files: { "index.js": "exports.handler = 42;" }, handler: "index.handler", type: "Runtime.HandlerNotFound", message: /^index\.handler is not a function$/ },
      { files: { "index.js": "" }, handler: "index", type: "Runtime.MalformedHandlerName", message: /^Bad handler$/ },
      { files: { "index.js": "" }, handler: "../index.handler", type: "Runtime.MalformedHandlerName", message: /is not a valid handler name/ },
      { files: { "index.js": "exports.handler = () => {" }, handler: "index.handler", type: "Runtime.UserCodeSyntaxError", message: /^SyntaxError: / },
      { files: { "index.js": "throw new RangeError('init failed');" }, handler: "index.handler", type: "RangeError", message: /^init failed$/ },
      { files: { "index.mjs": "await Promise.resolve(); throw new Error('esm init failed');" }, handler: "index.handler", type: "Error", message: /^esm init failed$/ },
    ];
    for (const c of cases) {
      await withSession("nodejs", c.files, c.handler, async (s) => {
        const init = await s.api.initError;
        assert.equal(init.errorType, c.type, c.handler);
        const body = JSON.parse(init.body) as { errorType: string; errorMessage: string; trace: unknown };
        assert.equal(body.errorType, c.type);
        assert.match(body.errorMessage, c.message);
        assert.ok(Array.isArray(body.trace));
        const exit = await s.rt.exited;
        assert.notEqual(exit.code, 0, "the runtime exits after an init error");
        assert.match(s.rt.stdout(), new RegExp(`^${ISO}\tundefined\tERROR\tUncaught Exception \t\\{"errorType":"${c.type.replace(".", "\\.")}"`, "m"));
      });
    }
  });

  it("reports an unhandled rejection or uncaught exception as the invocation's error, then exits", T, async () => {
    const files = {
      "index.js": `
        exports.rejects = async () => { Promise.reject(new Error("floating")); await new Promise((r) => setTimeout(r, 200)); return "late"; };
        exports.throwsLater = async () => { setTimeout(() => { throw new RangeError("in a timer"); }, 1); await new Promise((r) => setTimeout(r, 200)); return "late"; };
      `,
    };
    await withSession("nodejs", files, "index.rejects", async (s) => {
      const { body, errorType } = await fails(s);
      assert.equal(errorType, "Runtime.UnhandledPromiseRejection");
      assert.equal(body.errorType, "Runtime.UnhandledPromiseRejection");
      assert.equal(body.errorMessage, "Error: floating");
      assert.equal((await s.rt.exited).code, 128);
    });
    await withSession("nodejs", files, "index.throwsLater", async (s) => {
      const { body } = await fails(s);
      assert.equal(body.errorType, "RangeError");
      assert.equal(body.errorMessage, "in a timer");
      assert.equal((await s.rt.exited).code, 129);
    });
  });

  it("reconnects when the API closed the idle keep-alive connection during a long invocation", T, async () => {
    const files = { "index.js": "exports.handler = async () => { await new Promise((r) => setTimeout(r, 300)); return 'slow'; };" };
    await withSession("nodejs", files, "index.handler", async (s) => {
      assert.equal(await ok(s, {}), "slow");
      assert.equal(await ok(s, {}), "slow");
      assert.ok(s.api.connections >= 2, "the server did close the idle connection");
    }, { api: { keepAliveTimeoutMs: 50 } });
  });

  it("retries connection-refused while the Runtime API is not listening yet", T, async () => {
    await retriesUntilListening("nodejs", { "index.js": "exports.handler = async () => 'up';" }, "index.handler");
  });

  it("retries connections reset while a relay is up but the Runtime API behind it is not", T, async () => {
    await withSession("nodejs", { "index.js": "exports.handler = async () => 'up';" }, "index.handler", async (s) => {
      assert.equal(await ok(s, {}), "up");
    }, { api: { resetConnectionsForMs: 300 } });
  });
});

const hasPython = existsSync(PYTHON);

describe("python runtime", { skip: hasPython ? false : `${PYTHON} not installed` }, () => {
  it("runs a handler: result, context, trace id, print and logging records", T, async (t) => {
    const files = {
      "app.py": [
        "import logging, os",
        "print('init phase')",
        "logger = logging.getLogger()",
        "logger.setLevel(logging.INFO)",
        "def handler(event, context):",
        "    print('event', event['name'])",
        "    logger.info('info %s', 1)",
        "    logging.warning('two\\nlines')",
        "    cc = context.client_context",
        "    return {",
        "        'event': event, 'trace_id': os.environ.get('_X_AMZN_TRACE_ID'),",
        "        'aws_request_id': context.aws_request_id, 'invoked_function_arn': context.invoked_function_arn,",
        "        'function_name': context.function_name, 'function_version': context.function_version,",
        "        'memory_limit_in_mb': context.memory_limit_in_mb, 'log_group_name': context.log_group_name,",
        "        'log_stream_name': context.log_stream_name, 'remaining': context.get_remaining_time_in_millis(),",
        "        'custom': cc.custom if cc else None, 'identity_id': context.identity.cognito_identity_id,",
        "    }",
        "",
      ].join("\n"),
    };
    await withSession("python", files, "app.handler", async (s) => {
      const body = (await ok(
        s,
        { name: "first" },
        { requestId: "req-1", traceId: "Root=1-65f0-abc", timeoutMs: 3000, clientContext: { custom: { a: 1 } }, identity: { cognitoIdentityId: "id-1" } },
      )) as Record<string, unknown>;
      assert.deepEqual(body.event, { name: "first" });
      assert.equal(body.trace_id, "Root=1-65f0-abc");
      assert.equal(body.aws_request_id, "req-1");
      assert.equal(body.invoked_function_arn, "arn:aws:lambda:us-east-1:123456789012:function:fn");
      assert.equal(body.function_name, "fn");
      assert.equal(body.function_version, "$LATEST");
      assert.equal(body.memory_limit_in_mb, "256");
      assert.equal(body.log_group_name, "/aws/lambda/fn");
      assert.equal(body.log_stream_name, "2024/01/02/[$LATEST]0123456789abcdef");
      assert.deepEqual(body.custom, { a: 1 });
      assert.equal(body.identity_id, "id-1");
      const remaining = body.remaining as number;
      assert.ok(Number.isInteger(remaining) && remaining > 0 && remaining <= 3000, `remaining ${remaining}`);

      const out = await s.rt.waitForStdout("two\nlines");
      assert.match(out, /^init phase\n/m);
      assert.match(out, /^event first\n/m);
      assert.match(out, new RegExp(`^\\[INFO\\]\t${ISO}\treq-1\tinfo 1\n`, "m"));
      assert.match(out, new RegExp(`^\\[WARNING\\]\t${ISO}\treq-1\ttwo\nlines\n`, "m"));

      const second = (await ok(s, { name: "second" }, { requestId: "req-2" })) as Record<string, unknown>;
      assert.equal(second.aws_request_id, "req-2");
      assert.equal(second.trace_id, null);
      assert.equal(s.api.connections, 1, "one persistent connection for all requests");
      if (s.api.firstNextAt !== undefined) t.diagnostic(`python spawn -> first GET /next: ${(s.api.firstNextAt - s.rt.spawnedAt).toFixed(1)} ms`);
    });
  });

  it("imports pkg/mod.func and pkg.mod.func", T, async () => {
    const files = { "pkg/__init__.py": "", "pkg/mod.py": "def func(event, context):\n    return 'nested ' + str(event['n'])\n" };
    for (const handler of ["pkg/mod.func", "pkg.mod.func"]) {
      await withSession("python", files, handler, async (s) => {
        assert.equal(await ok(s, { n: 1 }), "nested 1");
      });
    }
  });

  it("reports a raised exception as {errorMessage, errorType, requestId, stackTrace} and keeps serving", T, async () => {
    const files = {
      "app.py": "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('bad value')\n    return 'fine'\n",
    };
    await withSession("python", files, "app.handler", async (s) => {
      const r = await s.api.invoke({ fail: true }, { requestId: "req-err" });
      assert.equal(r.kind, "error");
      assert.equal(r.errorType, "ValueError");
      const body = JSON.parse(r.body) as { stackTrace: string[] } & Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ["errorMessage", "errorType", "requestId", "stackTrace"]);
      assert.equal(body.errorMessage, "bad value");
      assert.equal(body.errorType, "ValueError");
      assert.equal(body.requestId, "req-err");
      assert.equal(body.stackTrace.length, 1, "runtime frames are dropped");
      assert.match(body.stackTrace[0] ?? "", /^ {2}File ".*\/app\.py", line 3, in handler\n {4}raise ValueError\('bad value'\)\n$/);
      assert.match(await s.rt.waitForStdout("[ERROR] ValueError: bad value"), /\[ERROR\] ValueError: bad value\rTraceback \(most recent call last\):\r/);
      assert.equal(await ok(s, {}), "fine");
    });
  });

  it("reports an unserializable result as Runtime.MarshalError", T, async () => {
    await withSession("python", { "app.py": "def handler(event, context):\n    return {1, 2}\n" }, "app.handler", async (s) => {
      const { body, errorType } = await fails(s);
      assert.equal(errorType, "Runtime.MarshalError");
      assert.equal(body.errorMessage, "Unable to marshal response: Object of type set is not JSON serializable");
      assert.deepEqual(body.stackTrace, []);
    });
  });

  it("encodes Decimal results as numbers and posts bytes results as they are", T, async () => {
    const files = {
      "app.py": "from decimal import Decimal\ndef dec(event, context):\n    return {'f': Decimal('1.5'), 'i': Decimal(3)}\ndef raw(event, context):\n    return b'not json'\n",
    };
    await withSession("python", files, "app.dec", async (s) => {
      assert.deepEqual(await ok(s, {}), { f: 1.5, i: 3 });
    });
    await withSession("python", files, "app.raw", async (s) => {
      const r = await s.api.invoke({});
      assert.equal(r.kind, "response");
      assert.equal(r.body, "not json");
    });
  });

  it("reports init errors: missing module, missing handler, malformed name, syntax error, raising init", T, async () => {
    const cases: Array<{ files: Record<string, string>; handler: string; type: string; message: RegExp }> = [
      { files: {}, handler: "nope.handler", type: "Runtime.ImportModuleError", message: /^Unable to import module 'nope': No module named 'nope'$/ },
      { files: { "app.py": "x = 1\n" }, handler: "app.handler", type: "Runtime.HandlerNotFound", message: /^Handler 'handler' missing on module 'app'$/ },
      { files: { "app.py": "" }, handler: "app", type: "Runtime.MalformedHandlerName", message: /^Bad handler 'app': / },
      { files: { "app.py": "def handler(:\n" }, handler: "app.handler", type: "Runtime.UserCodeSyntaxError", message: /^Syntax error in module 'app': / },
      { files: { "app.py": "raise RuntimeError('init failed')\n" }, handler: "app.handler", type: "RuntimeError", message: /^init failed$/ },
    ];
    for (const c of cases) {
      await withSession("python", c.files, c.handler, async (s) => {
        const init = await s.api.initError;
        assert.equal(init.errorType, c.type, c.handler);
        const body = JSON.parse(init.body) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), ["errorMessage", "errorType", "requestId", "stackTrace"]);
        assert.equal(body.errorType, c.type);
        assert.match(String(body.errorMessage), c.message);
        assert.equal(body.requestId, "");
        assert.equal((await s.rt.exited).code, 1);
        assert.match(s.rt.stdout(), new RegExp(`\\[ERROR\\] ${c.type.replace(".", "\\.")}: `));
      });
    }
  });

  it("reconnects when the API closed the idle keep-alive connection during a long invocation", T, async () => {
    // node's http.Server closes an idle connection keepAliveTimeout + 1 s after a response.
    const files = { "app.py": "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 'slow'\n" };
    await withSession("python", files, "app.handler", async (s) => {
      assert.equal(await ok(s, { sleep: 1.3 }), "slow");
      assert.equal(await ok(s, { sleep: 0 }), "slow");
      assert.ok(s.api.connections >= 2, "the server did close the idle connection");
    }, { api: { keepAliveTimeoutMs: 50 } });
  });

  it("retries connection-refused while the Runtime API is not listening yet", T, async () => {
    await retriesUntilListening("python", { "app.py": "def handler(event, context):\n    return 'up'\n" }, "app.handler");
  });

  it("retries connections reset while a relay is up but the Runtime API behind it is not", T, async () => {
    await withSession("python", { "app.py": "def handler(event, context):\n    return 'up'\n" }, "app.handler", async (s) => {
      assert.equal(await ok(s, {}), "up");
    }, { api: { resetConnectionsForMs: 300 } });
  });
});

/** Start the runtime first, the API 300 ms later on the port the runtime was told about. */
async function retriesUntilListening(runtime: "nodejs" | "python", files: Record<string, string>, handler: string): Promise<void> {
  const probe = new FakeRuntimeApi();
  const port = await probe.listen();
  probe.close();
  const taskDir = makeTaskDir(files);
  const rt = startRuntime({ runtime, taskDir, handler, apiAddress: `127.0.0.1:${port}` });
  const api = new FakeRuntimeApi();
  void rt.exited.then(() => api.failPending("the runtime exited"));
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rt.child.exitCode, null, `runtime gave up early: ${rt.stderr()}`);
    await api.listen(port);
    const r = await api.invoke({});
    assert.equal(r.kind, "response");
    assert.equal(JSON.parse(r.body), "up");
  } finally {
    await rt.stop();
    api.close();
    rmSync(taskDir, { recursive: true, force: true });
  }
}
