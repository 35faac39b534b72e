/**
 * End to end: the compiled `kiln` command (node bin/kiln.js) against a real standalone server
 * with real sandboxes: deploy -> invoke -> ls -> logs -> accounts -> rm, plus the failure modes a
 * newcomer meets first (bad usage, no credentials, server not running), none of which may print
 * a stack trace.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadServerConfig } from "../../src/base/index.js";
import { startStandalone } from "../../src/standalone/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url)); // dist/test/cli/ -> project root
const KILN = join(ROOT, "bin", "kiln.js");
const ROOT_KEY = "AKIAKILNTEST00000001";
const ROOT_SECRET = "test-secret-key-000000000000000000000000";
const STACK_TRACE = /\n\s+at .+\(.*:\d+:\d+\)/;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The host environment minus anything that could leak in: CA bundles, other Kiln or AWS settings. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === "NODE_EXTRA_CA_CERTS" || k.startsWith("KILN_") || k.startsWith("AWS_")) continue;
    env[k] = v;
  }
  return env;
}

function kiln(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KILN, ...args], { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("kiln CLI against a standalone server", { timeout: 300_000 }, () => {
  let server: { url: string; close(): Promise<void> };
  let dataDir: string;
  let scratch: string;
  let env: NodeJS.ProcessEnv; // root credentials, the server's port

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "kiln-cli-data-"));
    scratch = await mkdtemp(join(tmpdir(), "kiln-cli-scratch-"));
    server = await startStandalone(loadServerConfig({}, { port: 0, dataDir, rootAccessKeyId: ROOT_KEY, rootSecretAccessKey: ROOT_SECRET }));
    const url = new URL(server.url);
    env = { ...baseEnv(), KILN_HOST: url.hostname, KILN_PORT: url.port, KILN_ROOT_ACCESS_KEY_ID: ROOT_KEY, KILN_ROOT_SECRET_ACCESS_KEY: ROOT_SECRET };
  });

  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  test("help, and bad usage exits 2 with a pointer to the command's help", async () => {
    const help = await kiln(["help"], env);
    assert.equal(help.code, 0);
    for (const cmd of ["server", "deploy", "invoke", "logs", "ls", "rm", "accounts"]) assert.match(help.stdout, new RegExp(`\\n  ${cmd} `));
    const deployHelp = await kiln(["deploy", "--help"], env);
    assert.equal(deployHelp.code, 0);
    assert.match(deployHelp.stdout, /Usage: kiln deploy <dir> --name NAME --runtime RUNTIME --handler HANDLER/);

    const cases: [string[], RegExp][] = [
      [[], /Usage: kiln <command>/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["deploy"], /missing <dir>.*\n.*kiln deploy --help/],
      [["deploy", "examples/hello", "--runtime", "nodejs20.x", "--handler", "index.handler"], /missing required option --name/],
      [["deploy", "examples/hello", "--name", "x", "--runtime", "nodejs20.x", "--handler", "index.handler", "--memory", "lots"], /--memory must be a whole number/],
      [["deploy", "examples/hello", "--nmae", "x"], /Unknown option '--nmae'/],
      [["deploy", "no/such/dir", "--name", "x", "--runtime", "nodejs20.x", "--handler", "index.handler"], /no\/such\/dir is not a directory/],
      [["invoke"], /missing <function>/],
      [["invoke", "hello", "{bad"], /payload is not valid JSON/],
      [["logs", "hello", "--since", "yesterday"], /--since expects/],
      [["accounts", "delete", "x"], /unknown subcommand 'delete'/],
      [["server", "--isolation", "chroot"], /--isolation must be "process", "microvm" or "none"/],
    ];
    for (const [args, message] of cases) {
      const r = await kiln(args, env);
      assert.equal(r.code, 2, `kiln ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, `kiln ${args.join(" ")}`);
      assert.doesNotMatch(r.stderr, STACK_TRACE);
    }
  });

  test("without credentials: says to start the server or set the variables", async () => {
    const empty = join(scratch, "empty-data-dir");
    const r = await kiln(["ls"], { ...baseEnv(), KILN_PORT: new URL(server.url).port, KILN_DATA_DIR: empty });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no credentials for Kiln/);
    assert.match(r.stderr, /npm start/);
    assert.match(r.stderr, /KILN_ROOT_ACCESS_KEY_ID/);
  });

  test("server not running: says where it looked and how to start it", async () => {
    const port = await closedPort();
    const r = await kiln(["ls"], { ...env, KILN_PORT: String(port) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), `kiln: Kiln is not reachable at http://127.0.0.1:${port}: start it with \`npm start\``);
  });

  test("deploy creates the function and waits until it is Active", async () => {
    const r = await kiln(["deploy", "./examples/hello", "--name", "hello", "--runtime", "nodejs20.x", "--handler", "index.handler"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FunctionArn\s+arn:aws:lambda:us-east-1:\d{12}:function:hello$/m);
    assert.match(r.stdout, /^State\s+Active$/m);
    assert.match(r.stdout, /^CodeSha256\s+[A-Za-z0-9+/]{43}=$/m);
    assert.match(r.stderr, /created hello/);
  });

  test("invoke prints the result; --log adds the log tail on stderr", async () => {
    const r = await kiln(["invoke", "hello", '{"name":"Kiln"}'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { message: "Hello, Kiln!", event: { name: "Kiln" } });

    const logged = await kiln(["invoke", "hello", "--log"], env);
    assert.equal(logged.code, 0, logged.stderr);
    assert.equal(JSON.parse(logged.stdout).message, "Hello, world!");
    assert.match(logged.stderr, /^START RequestId: \S+ Version: \$LATEST$/m);
    assert.match(logged.stderr, /saying hello to world/);
    assert.match(logged.stderr, /^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);
  });

  test("deploy again updates code and configuration", async () => {
    const dir = join(scratch, "greeter");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "main.mjs"), "export const run = async () => ({ greeting: process.env.GREETING, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE });\n");
    const before = await kiln(["deploy", "./examples/hello", "--name", "greeter", "--runtime", "nodejs20.x", "--handler", "index.handler"], env);
    assert.equal(before.code, 0, before.stderr);
    const r = await kiln(["deploy", dir, "--name", "greeter", "--runtime", "nodejs20.x", "--handler", "main.run", "--memory", "256", "--env", "GREETING=hi there", "--env", "XY=a=b"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /updated greeter/);
    assert.match(r.stdout, /^State\s+Active$/m);
    assert.match(r.stdout, /^LastUpdateStatus\s+Successful$/m);
    const sha = (out: string): string | undefined => /^CodeSha256\s+(\S+)$/m.exec(out)?.[1];
    assert.notEqual(sha(r.stdout), sha(before.stdout));
    const out = await kiln(["invoke", "greeter"], env);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), { greeting: "hi there", memory: "256" });
  });

  test("a function error prints the error payload and exits 1", async () => {
    const dir = join(scratch, "boom");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "index.mjs"), 'export const handler = async () => { throw new TypeError("kaboom"); };\n');
    assert.equal((await kiln(["deploy", dir, "--name", "boom", "--runtime", "nodejs20.x", "--handler", "index.handler"], env)).code, 0);
    const r = await kiln(["invoke", "boom"], env);
    assert.equal(r.code, 1);
    const payload = JSON.parse(r.stdout);
    assert.equal(payload.errorType, "TypeError");
    assert.equal(payload.errorMessage, "kaboom");
    assert.match(r.stderr, /the function returned an error \(Unhandled\)/);
  });

  test("ls lists every function with its runtime, memory and state", async () => {
    const r = await kiln(["ls"], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME\s+RUNTIME\s+MEMORY\s+LAST MODIFIED\s+STATE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ["boom", "greeter", "hello"]);
    assert.match(r.stdout, /^greeter\s+nodejs20\.x\s+256 MB\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\s+Active$/m);
    assert.match(r.stdout, /^hello\s+nodejs20\.x\s+128 MB\s+.+\s+Active$/m);
  });

  test("logs prints the invocations' log lines", async () => {
    const r = await kiln(["logs", "hello"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^START RequestId: /m);
    assert.match(r.stdout, /INFO\tsaying hello to Kiln/);
    assert.match(r.stdout, /^END RequestId: /m);
    assert.match(r.stdout, /^REPORT RequestId: /m);
  });

  test("logs --follow shows new invocations once each and stops on Ctrl-C", async () => {
    const child = spawn(process.execPath, [KILN, "logs", "hello", "--follow", "--since", "1h"], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!re.test(stdout)) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${re} in:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await waitFor(/saying hello to Kiln/);
      const marker = `follower-${Date.now()}`;
      assert.equal((await kiln(["invoke", "hello", JSON.stringify({ name: marker })], env)).code, 0);
      await waitFor(new RegExp(`saying hello to ${marker}`));
      await new Promise((r) => setTimeout(r, 2500)); // two more polls: nothing may repeat
      assert.equal(stdout.split(`saying hello to ${marker}`).length - 1, 1, stdout);
      const starts = stdout.match(/^START RequestId: \S+/gm) ?? [];
      assert.equal(new Set(starts).size, starts.length, "a START line was printed twice");
    } finally {
      child.kill("SIGINT");
    }
    assert.equal(await exited, 0, stderr);
  });

  test("accounts create prints the new account's keys, which cannot see root's functions", async () => {
    const r = await kiln(["accounts", "create", "team-a"], env);
    assert.equal(r.code, 0, r.stderr);
    const account = JSON.parse(r.stdout) as { AccountId: string; Name: string; AccessKeyId: string; SecretAccessKey: string };
    assert.match(account.AccountId, /^\d{12}$/);
    assert.equal(account.Name, "team-a");
    assert.ok(account.AccessKeyId && account.SecretAccessKey);

    const { KILN_ROOT_ACCESS_KEY_ID: _k, KILN_ROOT_SECRET_ACCESS_KEY: _s, ...noRoot } = env;
    const asTeam = { ...noRoot, AWS_ACCESS_KEY_ID: account.AccessKeyId, AWS_SECRET_ACCESS_KEY: account.SecretAccessKey };
    const ls = await kiln(["ls"], asTeam);
    assert.equal(ls.code, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /hello/);
    const invoke = await kiln(["invoke", "hello"], asTeam);
    assert.equal(invoke.code, 1);
    assert.match(invoke.stderr, /^kiln: ResourceNotFoundException: /m);
    const denied = await kiln(["accounts", "create", "team-b"], asTeam);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^kiln: \w+: /);
    assert.doesNotMatch(denied.stderr, STACK_TRACE);
  });

  test("credentials come from <KILN_DATA_DIR>/credentials when no variables are set", async () => {
    const dir = join(scratch, "creds");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "credentials"), `[kiln]\naws_access_key_id = ${ROOT_KEY}\naws_secret_access_key = ${ROOT_SECRET}\n`);
    const r = await kiln(["ls"], { ...baseEnv(), KILN_PORT: env.KILN_PORT, KILN_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello\s/m);
  });

  test("wrong secret: the signature error is printed with its AWS code", async () => {
    const r = await kiln(["ls"], { ...env, KILN_ROOT_SECRET_ACCESS_KEY: "not-the-secret" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kiln: (InvalidSignatureException|UnrecognizedClientException|SignatureDoesNotMatch|AccessDeniedException): .+/);
    assert.doesNotMatch(r.stderr, STACK_TRACE);
  });

  test("rm deletes; afterwards the function is gone", async () => {
    const r = await kiln(["rm", "hello"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "deleted hello");
    const invoke = await kiln(["invoke", "hello"], env);
    assert.equal(invoke.code, 1);
    assert.match(invoke.stderr, /^kiln: ResourceNotFoundException: .*hello/m);
    assert.equal((await kiln(["rm", "hello"], env)).code, 1);
  });
});
