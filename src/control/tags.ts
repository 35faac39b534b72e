/**
 * Tags (TagResource, UntagResource, ListTags). Tags belong to the function, not to a version:
 * they live on the $LATEST record, only an unqualified function ARN names them, and publishing
 * ignores them. A tag change is not an update: no LastUpdateStatus transition, and the RevisionId
 * stays (it identifies what runs; AWS gives tagging a new one, Kiln keeps warm environments instead).
 */
import { invalidParameter, validation } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import { FUNCTIONS } from "./collections.js";
import { TAGS_MAX } from "./limits.js";
import type { FunctionRef } from "./names.js";
import type { FunctionRecord } from "./types.js";
import type { FunctionRegistry } from "./functions.js";

const RESOURCE =
  /^arn:(aws[a-zA-Z-]*)?:lambda:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}):(\d{12}):(function:([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+)$/;

/** The function an ARN names, refusing everything but an unqualified function ARN with AWS's errors. */
export function parseTaggableArn(raw: string): FunctionRef {
  const m = RESOURCE.exec(raw);
  if (!m) {
    throw validation(
      `1 validation error detected: Value '${raw}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+)`,
    );
  }
  if (m[9] === undefined) throw invalidParameter("Tags on layers are not supported by this Kiln server. Please specify a function ARN.");
  if (m[10] !== undefined) throw invalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.");
  return { name: m[9], accountId: m[7]!, region: m[2]! };
}

/** TagResource's Tags: a non-empty map of string keys (1-128 characters) to string values (at most 256). */
export function validateTagMap(v: unknown): Record<string, string> {
  if (v === undefined || v === null || (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)) {
    throw invalidParameter("An error occurred and the request cannot be processed.");
  }
  if (typeof v !== "object" || Array.isArray(v)) throw invalidParameter("Invalid type for parameter Tags, valid types: map");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== "string") throw invalidParameter(`Invalid type for parameter Tags.${k}, valid types: string`);
    if (k.length < 1 || k.length > 128) {
      throw validation(`1 validation error detected: Value '${k}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]`);
    }
    if (val.length > 256) {
      throw validation(`1 validation error detected: Value '${val}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256]`);
    }
    out[k] = val;
  }
  return out;
}

interface Deps {
  metadata: MetadataStore;
}

export class FunctionTags {
  constructor(private readonly registry: FunctionRegistry, private readonly deps: Deps) {}

  async list(accountId: string, arn: string): Promise<Record<string, string>> {
    return (await this.registry.load(accountId, parseTaggableArn(arn))).value.tags;
  }

  async tag(accountId: string, arn: string, tags: Record<string, string>): Promise<void> {
    await this.change(accountId, parseTaggableArn(arn), (cur) => {
      const next = { ...cur, ...tags };
      if (Object.keys(next).length > TAGS_MAX) throw invalidParameter("Number of tags exceeds resource tag limit.");
      return next;
    });
  }

  async untag(accountId: string, arn: string, keys: string[]): Promise<void> {
    const ref = parseTaggableArn(arn);
    if (keys.length === 0) throw validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    await this.change(accountId, ref, (cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => !keys.includes(k))));
  }

  private async change(accountId: string, ref: FunctionRef, f: (cur: Record<string, string>) => Record<string, string>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.registry.load(accountId, ref);
      const next: FunctionRecord = { ...cur.value, tags: f(cur.value.tags) };
      try {
        await this.deps.metadata.put(FUNCTIONS, `${accountId}/${ref.name}`, next, cur.revision);
        return;
      } catch (e) {
        if (!(e instanceof RevisionMismatchError) || attempt >= 8) throw e;
      }
    }
  }
}
