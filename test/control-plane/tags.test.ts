/**
 * Tags end to end through @aws-sdk/client-lambda: TagResource (204), ListTags, UntagResource
 * (204), GetFunction's Tags, tags given at creation, and AWS's errors for qualified ARNs, bad ARNs,
 * empty tag sets, too many tags and unknown functions, with nothing changed on error.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { GetFunctionCommand, ListTagsCommand, TagResourceCommand, UntagResourceCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { startKiln, type TestKiln } from "../support/kiln.js";
import { rejectsAws } from "../support/aws-errors.js";
import { arnOf, reporterSource } from "./fixtures.js";

describe("tags through the AWS SDK", { timeout: 60_000 }, () => {
  let t: TestKiln;
  let c: LambdaClient;

  before(async () => {
    t = await startKiln();
    c = t.client();
    await t.deploy("tagged", "nodejs20.x", "index.handler", { "index.js": reporterSource("t") }, { Tags: { team: "kiln" } });
  });

  after(async () => {
    await t?.stop();
  });

  test("TagResource merges, UntagResource removes, ListTags and GetFunction show the result", async () => {
    const Resource = arnOf("tagged");
    assert.deepEqual((await c.send(new ListTagsCommand({ Resource }))).Tags, { team: "kiln" }, "tags given at creation");
    const tagged = await c.send(new TagResourceCommand({ Resource, Tags: { env: "test", owner: "a" } }));
    assert.equal(tagged.$metadata.httpStatusCode, 204);
    await c.send(new TagResourceCommand({ Resource, Tags: { owner: "b" } }));
    assert.deepEqual((await c.send(new ListTagsCommand({ Resource }))).Tags, { team: "kiln", env: "test", owner: "b" });
    const untagged = await c.send(new UntagResourceCommand({ Resource, TagKeys: ["team", "absent"] }));
    assert.equal(untagged.$metadata.httpStatusCode, 204);
    assert.deepEqual((await c.send(new GetFunctionCommand({ FunctionName: "tagged" }))).Tags, { env: "test", owner: "b" });
  });

  test("bad input: versions and aliases, malformed ARNs, empty and oversized tag sets, unknown functions", async () => {
    const before = (await c.send(new ListTagsCommand({ Resource: arnOf("tagged") }))).Tags;
    await rejectsAws(c.send(new TagResourceCommand({ Resource: arnOf("tagged", "1"), Tags: { a: "b" } })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    });
    await rejectsAws(c.send(new ListTagsCommand({ Resource: arnOf("tagged", "live") })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    });
    await rejectsAws(c.send(new TagResourceCommand({ Resource: "tagged", Tags: { a: "b" } })), {
      name: "ValidationException",
      status: 400,
      message: /^1 validation error detected: Value 'tagged' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:/,
    });
    await rejectsAws(c.send(new TagResourceCommand({ Resource: arnOf("tagged"), Tags: {} })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "An error occurred and the request cannot be processed.",
    });
    const many = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"]));
    await rejectsAws(c.send(new TagResourceCommand({ Resource: arnOf("tagged"), Tags: many })), {
      name: "InvalidParameterValueException",
      status: 400,
      message: "Number of tags exceeds resource tag limit.",
    });
    await rejectsAws(c.send(new UntagResourceCommand({ Resource: arnOf("tagged"), TagKeys: [] })), {
      name: "ValidationException",
      status: 400,
      message: "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    });
    await rejectsAws(c.send(new TagResourceCommand({ Resource: arnOf("nope"), Tags: { a: "b" } })), { name: "ResourceNotFoundException", status: 404, message: `Function not found: ${arnOf("nope")}` });
    assert.deepEqual((await c.send(new ListTagsCommand({ Resource: arnOf("tagged") }))).Tags, before, "no refused call changed the tags");
  });
});
