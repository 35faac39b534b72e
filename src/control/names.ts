/**
 * Function name forms, as the Lambda API accepts them: `name`, `name:qualifier`,
 * `123456789012:function:name[:qualifier]`, `arn:aws:lambda:<region>:<acct>:function:name[:qualifier]`.
 * Pure parsing; the caller decides what an account or region mismatch means.
 */
import { KilnError, validation } from "../base/index.js";

export interface FunctionRef {
  name: string;
  qualifier?: string;
  accountId?: string;
  region?: string;
}

const FULL = /^(arn:(aws[a-zA-Z-]*)?:lambda:)?(([a-z]{2}(-gov)?-[a-z]+-\d{1}):)?((\d{12}):)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;
export const QUALIFIER_PATTERN = /^(\$LATEST|[a-zA-Z0-9-_]{1,128})$/;

export function parseFunctionRef(raw: string, field = "functionName"): FunctionRef {
  const m = raw.length <= 170 ? FULL.exec(raw) : null;
  if (!m) {
    throw validation(
      `1 validation error detected: Value '${raw}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  const isArn = m[1] !== undefined;
  if (isArn && (m[4] === undefined || m[7] === undefined || m[8] === undefined)) throw validation(`1 validation error detected: Value '${raw}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern`);
  if (!isArn && m[7] !== undefined && m[8] === undefined) throw validation(`1 validation error detected: Value '${raw}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern`);
  const name = m[9]!;
  if (!FUNCTION_NAME_PATTERN.test(name)) {
    throw validation(`1 validation error detected: Value '${raw}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to 64`);
  }
  const ref: FunctionRef = { name };
  if (m[11] !== undefined) ref.qualifier = m[11];
  if (m[7] !== undefined) ref.accountId = m[7];
  if (m[4] !== undefined) ref.region = m[4];
  return ref;
}

/** Combines the name's own qualifier with a `?Qualifier=` parameter, as AWS does. */
export function effectiveQualifier(ref: FunctionRef, qualifierParam: string | undefined): string | undefined {
  if (qualifierParam !== undefined && qualifierParam !== "") {
    if (!QUALIFIER_PATTERN.test(qualifierParam)) {
      throw validation(`1 validation error detected: Value '${qualifierParam}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`);
    }
    if (ref.qualifier !== undefined && ref.qualifier !== qualifierParam) {
      throw new KilnError("InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.");
    }
    return qualifierParam;
  }
  return ref.qualifier;
}

export const functionArn = (region: string, accountId: string, name: string, qualifier?: string): string =>
  `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? ":" + qualifier : ""}`;
