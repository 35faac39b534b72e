/** Shared by the control-plane end-to-end tests: a handler that reports what ran it, and an invoke helper. */
import assert from "node:assert/strict";
import { InvokeCommand, type InvokeCommandInput, type LambdaClient } from "@aws-sdk/client-lambda";
import { zipFiles } from "../../src/artifacts/index.js";
import { json } from "../support/kiln.js";

export const ACCOUNT = "000000000000";
export const arnOf = (name: string, qualifier?: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ""}`;

/**
 * A handler tagged `code`: returns the tag, the version the runtime was told it runs, an id of
 * its execution environment, when that environment initialized, and how it was initialized.
 * `{"sleepMs": n}` makes it take n ms.
 */
export const reporterSource = (code: string) => `
const instance = Math.random().toString(36).slice(2);
const initAt = Date.now();
let count = 0;
exports.handler = async (event) => {
  count++;
  if (event && event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return {
    code: ${JSON.stringify(code)},
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    instance,
    initAt,
    count,
    initType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
    memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    foo: process.env.FOO ?? null,
  };
};
`;

export const reporterZip = (code: string): Promise<Buffer> => zipFiles({ "index.js": reporterSource(code) });

export interface Reported {
  code: string;
  version: string;
  instance: string;
  initAt: number;
  count: number;
  initType: string;
  memory: string;
  foo: string | null;
}

export interface Invoked {
  executedVersion: string;
  body: Reported;
  log: string;
}

/** Invokes (LogType Tail), asserting success and that X-Amz-Executed-Version names the version that ran. */
export async function invoke(c: LambdaClient, input: Omit<InvokeCommandInput, "Payload"> & { payload?: unknown }): Promise<Invoked> {
  const { payload, ...rest } = input;
  const r = await c.send(new InvokeCommand({ LogType: "Tail", ...rest, Payload: Buffer.from(JSON.stringify(payload ?? {})) }));
  assert.equal(r.StatusCode, 200);
  assert.equal(r.FunctionError, undefined, `function error: ${Buffer.from(r.Payload ?? []).toString()}`);
  const body = json(r.Payload) as Reported;
  assert.equal(r.ExecutedVersion, body.version, "X-Amz-Executed-Version is the version that ran");
  return { executedVersion: r.ExecutedVersion ?? "", body, log: Buffer.from(r.LogResult ?? "", "base64").toString() };
}

/** Runs `n` jobs with at most `width` at a time. */
export async function pool<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}
