import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import {
  parseArnParameter,
  parseLayerName,
  parseLayerVersionArn,
  parseVersionNumber,
  validateFunctionLayers,
  validateLayerListFilters,
  validatePublishLayerVersion,
} from "./layer-validation.js";

const fails = (fn: () => unknown, code: string, message: string | RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError);
    assert.equal(e.code, code);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
};
const zip = (b64: string) => Buffer.from(b64, "base64");

test("layer names: plain names and unversioned layer ARNs", () => {
  assert.deepEqual(parseLayerName("my-layer_1"), { name: "my-layer_1" });
  assert.deepEqual(parseLayerName("arn:aws:lambda:us-east-1:123456789012:layer:shared"), { name: "shared", accountId: "123456789012", region: "us-east-1" });
  fails(() => parseLayerName("bad name"), "ValidationException", /^1 validation error detected: Value 'bad name' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
  fails(() => parseLayerName("x".repeat(141)), "ValidationException", /at 'layerName'/);
});

test("layer version ARNs and version numbers", () => {
  assert.deepEqual(parseLayerVersionArn("arn:aws:lambda:eu-west-1:123456789012:layer:l:7"), { region: "eu-west-1", accountId: "123456789012", name: "l", version: 7 });
  assert.equal(parseLayerVersionArn("arn:aws:lambda:eu-west-1:123456789012:layer:l"), undefined);
  fails(() => parseArnParameter("nope"), "ValidationException", /^1 validation error detected: Value 'nope' at 'arn' failed to satisfy constraint/);
  assert.equal(parseVersionNumber("3"), 3);
  fails(() => parseVersionNumber("0"), "InvalidParameterValueException", "Layer Version Cannot be less than 1");
  fails(() => parseVersionNumber("abc"), "ValidationException", /at 'versionNumber'/);
});

test("PublishLayerVersion: content, runtimes (at most 15, AWS's enum), architectures (at most 2), description, license", () => {
  const ok = validatePublishLayerVersion({ Content: { ZipFile: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" }, CompatibleRuntimes: ["nodejs20.x", "java8"], LicenseInfo: "MIT" }, zip);
  assert.equal(ok.description, "");
  assert.deepEqual(ok.compatibleRuntimes, ["nodejs20.x", "java8"]);
  assert.equal(ok.licenseInfo, "MIT");
  assert.equal(ok.compatibleArchitectures, undefined);
  fails(() => validatePublishLayerVersion({}, zip), "ValidationException", "1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null");
  const content = { ZipFile: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" };
  fails(
    () => validatePublishLayerVersion({ Content: content, CompatibleRuntimes: Array.from({ length: 16 }, () => "nodejs20.x") }, zip),
    "ValidationException",
    /^1 validation error detected: Value '\[nodejs20\.x, .*\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must have length less than or equal to 15$/,
  );
  fails(
    () => validatePublishLayerVersion({ Content: content, CompatibleRuntimes: ["cobol"], CompatibleArchitectures: ["x86_64", "sparc"] }, zip),
    "ValidationException",
    /^2 validation errors detected: Value '\[cobol\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: \[ruby2\.6, .*python2\.7\]; Value '\[x86_64, sparc\]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: \[Member must satisfy enum value set: \[x86_64, arm64\]\]$/,
  );
  fails(
    () => validatePublishLayerVersion({ Content: content, CompatibleArchitectures: ["x86_64", "arm64", "x86_64"] }, zip),
    "ValidationException",
    /at 'compatibleArchitectures' failed to satisfy constraint: Member must have length less than or equal to 2$/,
  );
  fails(() => validatePublishLayerVersion({ Content: content, Description: "d".repeat(257) }, zip), "ValidationException", /at 'description' failed to satisfy constraint: Member must have length less than or equal to 256$/);
  fails(() => validatePublishLayerVersion({ Content: content, LicenseInfo: "l".repeat(513) }, zip), "ValidationException", /at 'licenseInfo' failed to satisfy constraint: Member must have length less than or equal to 512$/);
});

test("list filters and MaxItems (1 to 50)", () => {
  assert.deepEqual(validateLayerListFilters(new URLSearchParams("")), { maxItems: 50 });
  assert.deepEqual(validateLayerListFilters(new URLSearchParams("CompatibleRuntime=python3.11&CompatibleArchitecture=arm64&MaxItems=2&Marker=m")), {
    compatibleRuntime: "python3.11",
    compatibleArchitecture: "arm64",
    maxItems: 2,
    marker: "m",
  });
  fails(() => validateLayerListFilters(new URLSearchParams("MaxItems=51")), "ValidationException", /Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50$/);
  fails(() => validateLayerListFilters(new URLSearchParams("MaxItems=0")), "ValidationException", /Member must have value greater than or equal to 1$/);
  fails(() => validateLayerListFilters(new URLSearchParams("CompatibleRuntime=cobol")), "ValidationException", /^1 validation error detected: Value 'cobol' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: \[/);
  fails(() => validateLayerListFilters(new URLSearchParams("CompatibleArchitecture=mips")), "ValidationException", /Value 'mips' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: \[x86_64, arm64\]$/);
});

test("a function's Layers: at most 5, each a versioned layer ARN", () => {
  const arn = (n: number) => `arn:aws:lambda:us-east-1:000000000000:layer:l${n}:1`;
  assert.equal(validateFunctionLayers(undefined), undefined);
  assert.deepEqual(validateFunctionLayers([arn(1), arn(2)]), [arn(1), arn(2)]);
  fails(() => validateFunctionLayers([1, 2, 3, 4, 5, 6].map(arn)), "InvalidParameterValueException", "Cannot reference more than 5 layers.");
  fails(
    () => validateFunctionLayers(["arn:aws:lambda:us-east-1:000000000000:layer:unversioned"]),
    "ValidationException",
    /^1 validation error detected: Value '\[arn:aws:lambda:us-east-1:000000000000:layer:unversioned\]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: \[Member must have length less than or equal to 140, /,
  );
  fails(() => validateFunctionLayers("arn"), "InvalidParameterValueException", /Invalid type for parameter Layers/);
});
