import { test } from "node:test";
import assert from "node:assert/strict";
import { KilnError } from "../base/index.js";
import { validateCors, validateFunctionUrlInput, validateUrlListMaxItems, validateUrlQualifier } from "./function-url-validation.js";

const fails = (fn: () => unknown, code: string, message: string | RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError);
    assert.equal(e.code, code);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
};

test("the qualifier: none means $LATEST; $LATEST spelled out and version numbers are refused as AWS does", () => {
  assert.equal(validateUrlQualifier(undefined), "$LATEST");
  assert.equal(validateUrlQualifier("live"), "live");
  fails(
    () => validateUrlQualifier("$LATEST"),
    "ValidationException",
    "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
  );
  fails(
    () => validateUrlQualifier("1"),
    "ValidationException",
    "1 validation error detected: Value '1' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))",
  );
});

test("AuthType is required on create, one of NONE and AWS_IAM; InvokeMode BUFFERED (RESPONSE_STREAM not yet)", () => {
  assert.deepEqual(validateFunctionUrlInput({ AuthType: "AWS_IAM" }, { create: true }), { authType: "AWS_IAM" });
  assert.deepEqual(validateFunctionUrlInput({}, { create: false }), {});
  fails(() => validateFunctionUrlInput({}, { create: true }), "ValidationException", "1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null");
  fails(
    () => validateFunctionUrlInput({ AuthType: "OPEN" }, { create: true }),
    "ValidationException",
    "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]",
  );
  fails(
    () => validateFunctionUrlInput({ AuthType: "NONE", InvokeMode: "FAST" }, { create: true }),
    "ValidationException",
    "1 validation error detected: Value 'FAST' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
  );
  fails(() => validateFunctionUrlInput({ AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" }, { create: true }), "InvalidParameterValueException", /RESPONSE_STREAM is not supported/);
});

test("Cors: the API model's limits", () => {
  assert.deepEqual(validateCors({ AllowOrigins: ["*"], AllowMethods: ["GET"], MaxAge: 0, AllowCredentials: true }), { AllowOrigins: ["*"], AllowMethods: ["GET"], MaxAge: 0, AllowCredentials: true });
  fails(() => validateCors({ MaxAge: 86_401 }), "ValidationException", "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400");
  fails(() => validateCors({ MaxAge: -1 }), "ValidationException", /at 'cors.maxAge' failed to satisfy constraint: Member must have value greater than or equal to 0$/);
  fails(() => validateCors({ AllowMethods: ["GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS"] }), "ValidationException", /at 'cors.allowMethods' failed to satisfy constraint: Member must have length less than or equal to 6$/);
  fails(() => validateCors({ AllowMethods: ["OPTIONSS"] }), "ValidationException", /Value '\[OPTIONSS\]' at 'cors.allowMethods' failed to satisfy constraint: Member must satisfy constraint: \[Member must have length less than or equal to 6/);
  fails(() => validateCors({ AllowOrigins: [""] }), "ValidationException", /at 'cors.allowOrigins'.*greater than or equal to 1/);
  fails(() => validateCors({ AllowCredentials: "yes" }), "InvalidParameterValueException", /AllowCredentials/);
  fails(() => validateCors("*"), "InvalidParameterValueException", /Cors/);
});

test("ListFunctionUrlConfigs MaxItems: 1 to 50", () => {
  assert.equal(validateUrlListMaxItems(null), 50);
  assert.equal(validateUrlListMaxItems("7"), 7);
  fails(() => validateUrlListMaxItems("51"), "ValidationException", /Member must have value less than or equal to 50$/);
  fails(() => validateUrlListMaxItems("0"), "ValidationException", /Member must have value greater than or equal to 1$/);
});
