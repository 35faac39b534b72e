/**
 * The event invoke config registry: Put (replace), Update (merge), Get, Delete and List of a
 * function's asynchronous invocation settings per qualifier, and the effective settings the
 * pollers apply (defaults filled in, with the function's DeadLetterConfig). Configs of a deleted
 * function go with it.
 */
import { KilnError, notFound, type Clock } from "../base/index.js";
import type { MetadataStore } from "../store/index.js";
import {
  DEFAULT_MAXIMUM_EVENT_AGE_S,
  DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
  EVENT_INVOKE_CONFIG_LIST_MAX,
  destinationService,
  validateEventInvokeConfig,
  type DestinationSide,
  type EventInvokeConfigInput,
  type EventInvokeConfigRecord,
} from "./event-invoke-config.js";
import type { FunctionRegistry } from "./functions.js";
import { effectiveQualifier, functionArn, parseFunctionRef, type FunctionRef } from "./names.js";

const CONFIGS = "event-invoke-configs";
const LATEST = "$LATEST";

/** What the pollers need to know about a function's async handling. */
export interface AsyncInvokeSettings {
  /** Qualified ARN as invoked (…:$LATEST when unqualified). */
  functionArn: string;
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
  onSuccess?: string;
  onFailure?: string;
  /** The function's DeadLetterConfig.TargetArn. */
  deadLetterTargetArn?: string;
}

export interface EventInvokeConfigsDeps {
  metadata: MetadataStore;
  registry: FunctionRegistry;
  clock: Clock;
  region: string;
}

const key = (accountId: string, name: string, qualifier: string): string => `${accountId}/${name}/${qualifier}`;
const isNotFound = (e: unknown): boolean => e instanceof KilnError && e.code === "ResourceNotFoundException";

export class EventInvokeConfigs {
  constructor(private readonly d: EventInvokeConfigsDeps) {
    // A config goes with its function, version or alias (checked: a change event alone does not say it is gone).
    d.registry.onChange((c) => {
      const qualifier = c.kind === "deleted" ? undefined : c.kind === "version-deleted" ? c.version : c.kind === "alias" ? c.alias : null;
      if (qualifier === null) return;
      void this.functionExists(c.accountId, { name: c.name }, qualifier)
        .then((exists) => {
          if (exists) return;
          return qualifier === undefined ? d.metadata.delete(CONFIGS, `${c.accountId}/${c.name}/`, { prefix: true }) : d.metadata.delete(CONFIGS, key(c.accountId, c.name, qualifier));
        })
        .catch(() => undefined);
    });
  }

  private target(functionNameParam: string, qualifierParam: string | undefined): { ref: FunctionRef; qualifier: string | undefined } {
    const ref = parseFunctionRef(functionNameParam);
    return { ref, qualifier: effectiveQualifier(ref, qualifierParam) };
  }

  private missing(accountId: string, name: string, qualifier: string | undefined): KilnError {
    return notFound(`The function ${functionArn(this.d.region, accountId, name, qualifier ?? LATEST)} doesn't have an EventInvokeConfig`);
  }

  private async functionExists(accountId: string, ref: FunctionRef, qualifier: string | undefined): Promise<boolean> {
    try {
      await this.d.registry.get(accountId, ref, qualifier);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** PutFunctionEventInvokeConfig: replaces the config; omitted settings are removed. */
  async put(accountId: string, functionNameParam: string, qualifierParam: string | undefined, body: Record<string, unknown>): Promise<EventInvokeConfigRecord> {
    const input = validateEventInvokeConfig(body);
    const { ref, qualifier } = this.target(functionNameParam, qualifierParam);
    if (!(await this.functionExists(accountId, ref, qualifier))) throw notFound("The function doesn't exist.");
    await this.checkDestinations(accountId, ref.name, input);
    const rec: EventInvokeConfigRecord = { accountId, functionName: ref.name, qualifier: qualifier ?? LATEST, lastModified: this.d.clock.now() };
    apply(rec, input);
    await this.d.metadata.put(CONFIGS, key(accountId, ref.name, rec.qualifier), rec);
    return rec;
  }

  /** UpdateFunctionEventInvokeConfig: changes only the settings given. */
  async update(accountId: string, functionNameParam: string, qualifierParam: string | undefined, body: Record<string, unknown>): Promise<EventInvokeConfigRecord> {
    const input = validateEventInvokeConfig(body);
    const { ref, qualifier } = this.target(functionNameParam, qualifierParam);
    if (!(await this.functionExists(accountId, ref, qualifier))) throw notFound("The function doesn't exist.");
    const k = key(accountId, ref.name, qualifier ?? LATEST);
    const cur = await this.d.metadata.get<EventInvokeConfigRecord>(CONFIGS, k);
    if (!cur) throw this.missing(accountId, ref.name, qualifier);
    await this.checkDestinations(accountId, ref.name, input);
    const rec: EventInvokeConfigRecord = { ...cur.value, lastModified: this.d.clock.now() };
    apply(rec, input);
    await this.d.metadata.put(CONFIGS, k, rec, cur.revision);
    return rec;
  }

  async get(accountId: string, functionNameParam: string, qualifierParam: string | undefined): Promise<EventInvokeConfigRecord> {
    const { ref, qualifier } = this.target(functionNameParam, qualifierParam);
    if (!(await this.functionExists(accountId, ref, qualifier))) throw this.missing(accountId, ref.name, qualifier);
    const found = await this.d.metadata.get<EventInvokeConfigRecord>(CONFIGS, key(accountId, ref.name, qualifier ?? LATEST));
    if (!found) throw this.missing(accountId, ref.name, qualifier);
    return found.value;
  }

  async delete(accountId: string, functionNameParam: string, qualifierParam: string | undefined): Promise<void> {
    const { ref, qualifier } = this.target(functionNameParam, qualifierParam);
    if (!(await this.functionExists(accountId, ref, qualifier))) throw this.missing(accountId, ref.name, qualifier);
    if ((await this.d.metadata.delete(CONFIGS, key(accountId, ref.name, qualifier ?? LATEST))) === 0) throw this.missing(accountId, ref.name, qualifier);
  }

  async list(accountId: string, functionNameParam: string, marker: string | undefined, maxItems: number = EVENT_INVOKE_CONFIG_LIST_MAX): Promise<{ configs: EventInvokeConfigRecord[]; nextMarker?: string }> {
    const ref = parseFunctionRef(functionNameParam);
    if (!(await this.functionExists(accountId, ref, undefined))) throw notFound("The function doesn't exist.");
    const prefix = `${accountId}/${ref.name}/`;
    const after = marker ? prefix + Buffer.from(marker, "base64url").toString() : undefined;
    const page = await this.d.metadata.list<EventInvokeConfigRecord>(CONFIGS, prefix, { limit: Math.min(maxItems, EVENT_INVOKE_CONFIG_LIST_MAX), ...(after ? { after } : {}) });
    const out: { configs: EventInvokeConfigRecord[]; nextMarker?: string } = { configs: page.items.map((i) => i.value) };
    if (page.next) out.nextMarker = Buffer.from(page.next.slice(prefix.length)).toString("base64url");
    return out;
  }

  /** The settings an async invocation of `functionName[:qualifier]` runs with; undefined when the function is gone. */
  async settings(accountId: string, functionName: string, qualifier: string | undefined): Promise<AsyncInvokeSettings | undefined> {
    let deadLetter: string | undefined;
    try {
      deadLetter = (await this.d.registry.get(accountId, { name: functionName }, qualifier)).deadLetterTargetArn;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const cfg = (await this.d.metadata.get<EventInvokeConfigRecord>(CONFIGS, key(accountId, functionName, qualifier ?? LATEST)))?.value;
    const s: AsyncInvokeSettings = {
      functionArn: functionArn(this.d.region, accountId, functionName, qualifier ?? LATEST),
      maximumRetryAttempts: cfg?.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: cfg?.maximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_S,
    };
    if (cfg?.onSuccess) s.onSuccess = cfg.onSuccess;
    if (cfg?.onFailure) s.onFailure = cfg.onFailure;
    if (deadLetter) s.deadLetterTargetArn = deadLetter;
    return s;
  }

  /** Destinations must be other existing functions of the same account, in this region. */
  private async checkDestinations(accountId: string, functionName: string, input: EventInvokeConfigInput): Promise<void> {
    const given = input.destinations ?? {};
    for (const side of ["onSuccess", "onFailure"] as DestinationSide[]) {
      const arn = given[side];
      if (!arn) continue;
      destinationService(arn, given.onSuccess, given.onFailure);
      const invalid = invalidArn(arn);
      let ref: FunctionRef;
      try {
        ref = parseFunctionRef(arn, `destinationConfig.${side}.destination`);
      } catch {
        throw invalid;
      }
      if (!arn.includes(":function:") || ref.region !== this.d.region || ref.accountId !== accountId) throw invalid;
      if (!(await this.functionExists(accountId, { name: ref.name }, ref.qualifier))) throw invalid;
      if (ref.name === functionName) throw new KilnError("InvalidParameterValueException", "You can't specify the function as a destination for itself.");
    }
  }
}

const invalidArn = (arn: string): KilnError => new KilnError("InvalidParameterValueException", `The destination ARN ${arn} is invalid.`);

function apply(rec: EventInvokeConfigRecord, input: EventInvokeConfigInput): void {
  if (input.maximumRetryAttempts !== undefined) rec.maximumRetryAttempts = input.maximumRetryAttempts;
  if (input.maximumEventAgeInSeconds !== undefined) rec.maximumEventAgeInSeconds = input.maximumEventAgeInSeconds;
  for (const side of ["onSuccess", "onFailure"] as DestinationSide[]) {
    const d = input.destinations?.[side];
    if (d === undefined) continue;
    if (d === "") delete rec[side];
    else rec[side] = d;
  }
}
