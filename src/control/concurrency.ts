/**
 * Concurrency settings: reserved concurrency (one number per function) and provisioned
 * concurrency configurations (one per published version or alias). The counting component enforces
 * them and the assignment component keeps provisioned environments warm; this module only decides
 * which settings are allowed and stores them.
 *
 * Algorithm: a function's allocation is its reserved concurrency when it has one (its provisioned
 * concurrency lives inside it), else the sum of its provisioned configurations. The account's
 * unreserved concurrency is its limit minus every function's allocation, and no change may take
 * it below 100 (AWS's minimum). Provisioned concurrency on a function with a reservation must fit
 * inside the reservation.
 *
 * Worked example: limit 1,000. f reserves 300 -> unreserved 700. g provisions 50 on g:1 -> 650.
 * h asks to reserve 600 -> 50 left < 100 -> refused. f provisions 200 on f:live -> still 650 (inside
 * f's 300); f:live asking for 400 -> refused (more than f's reservation).
 *
 * Known caveats: the figures are per region and account, as on AWS; an alias with a routing
 * configuration counts its provisioned concurrency once, split across its two versions by weight.
 */
import { KilnError, conflict, invalidParameter, notFound, validation, type Clock } from "../base/index.js";
import { RevisionMismatchError, type MetadataStore } from "../store/index.js";
import type { FunctionRef } from "./names.js";
import { FUNCTIONS, META, PROVISIONED } from "./collections.js";
import { MIN_UNRESERVED_CONCURRENCY } from "./limits.js";
import { isVersionNumber } from "./versions.js";
import type { FunctionMeta, ProvisionedConfigRecord } from "./types.js";
import type { FunctionRegistry } from "./functions.js";

export interface FunctionAllocation {
  reserved?: number;
  /** Sum of the function's provisioned concurrency configurations. */
  provisioned: number;
}

export const allocatedOf = (a: FunctionAllocation): number => a.reserved ?? a.provisioned;

export function unreservedConcurrency(limit: number, allocations: Iterable<FunctionAllocation>): number {
  let n = limit;
  for (const a of allocations) n -= allocatedOf(a);
  return n;
}

/** Throws unless reserving `requested` for a function leaves the account 100 unreserved and covers its provisioned concurrency. */
export function checkReservedConcurrency(limit: number, others: FunctionAllocation[], requested: number, provisionedTotal: number): void {
  if (unreservedConcurrency(limit, others) - requested < MIN_UNRESERVED_CONCURRENCY) {
    throw invalidParameter(
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED_CONCURRENCY}].`,
    );
  }
  if (provisionedTotal > requested) {
    throw invalidParameter(` ReservedConcurrentExecutions  ${requested} should not be lower than function's total provisioned concurrency [${provisionedTotal}].`);
  }
}

/** Throws unless `requested` provisioned environments on one qualifier fit the function's reservation and the account. */
export function checkProvisionedConcurrency(
  limit: number,
  others: FunctionAllocation[],
  fn: { reserved?: number; provisionedElsewhere: number },
  requested: number,
): void {
  if (fn.reserved !== undefined && fn.reserved < fn.provisionedElsewhere + requested) {
    throw invalidParameter("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function");
  }
  const unreserved = unreservedConcurrency(limit, others);
  if (fn.reserved === undefined && requested > unreserved - fn.provisionedElsewhere) {
    throw invalidParameter(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${unreserved - fn.provisionedElsewhere}].`);
  }
  if (fn.reserved === undefined && unreserved - fn.provisionedElsewhere - requested < MIN_UNRESERVED_CONCURRENCY) {
    throw invalidParameter(
      `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${MIN_UNRESERVED_CONCURRENCY}].`,
    );
  }
}

const UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions.";
const NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version.";

interface Deps {
  metadata: MetadataStore;
  clock: Clock;
  accountConcurrency?: number;
}

export class ConcurrencyConfigs {
  readonly limit: number;

  constructor(private readonly registry: FunctionRegistry, private readonly deps: Deps) {
    this.limit = deps.accountConcurrency ?? 1000;
  }

  private async meta(accountId: string, fn: string): Promise<{ value: FunctionMeta; revision: number }> {
    return (await this.deps.metadata.get<FunctionMeta>(META, `${accountId}/${fn}`)) ?? { value: { lastVersion: 0 }, revision: 0 };
  }

  async reserved(accountId: string, ref: FunctionRef): Promise<number | undefined> {
    await this.registry.load(accountId, ref);
    return (await this.meta(accountId, ref.name)).value.reservedConcurrency;
  }

  /** Every function's allocation in the account, by function name. */
  async allocations(accountId: string): Promise<Map<string, FunctionAllocation>> {
    const out = new Map<string, FunctionAllocation>();
    const at = (fn: string) => out.get(fn) ?? out.set(fn, { provisioned: 0 }).get(fn)!;
    for (const { key, value } of await this.scan<FunctionMeta>(META, `${accountId}/`)) {
      if (value.reservedConcurrency !== undefined) at(key.slice(accountId.length + 1)).reserved = value.reservedConcurrency;
    }
    for (const { value } of await this.scan<ProvisionedConfigRecord>(PROVISIONED, `${accountId}/`)) at(value.functionName).provisioned += value.requested;
    return out;
  }

  async unreserved(accountId: string): Promise<number> {
    return unreservedConcurrency(this.limit, (await this.allocations(accountId)).values());
  }

  private async others(accountId: string, fn: string): Promise<FunctionAllocation[]> {
    const all = await this.allocations(accountId);
    all.delete(fn);
    return [...all.values()];
  }

  async putReserved(accountId: string, ref: FunctionRef, requested: number): Promise<number> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      const meta = await this.meta(accountId, ref.name);
      const provisioned = (await this.listProvisioned(accountId, ref.name)).reduce((n, c) => n + c.requested, 0);
      checkReservedConcurrency(this.limit, await this.others(accountId, ref.name), requested, provisioned);
      if (await this.write(latest, meta, { ...meta.value, reservedConcurrency: requested })) {
        await this.announce(accountId, ref.name);
        return requested;
      }
    }
    throw this.busy(accountId, ref.name);
  }

  async deleteReserved(accountId: string, ref: FunctionRef): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const latest = await this.registry.load(accountId, ref);
      const meta = await this.meta(accountId, ref.name);
      if (meta.value.reservedConcurrency === undefined) return;
      const next = { ...meta.value };
      delete next.reservedConcurrency;
      if (await this.write(latest, meta, next)) {
        await this.announce(accountId, ref.name);
        return;
      }
    }
    throw this.busy(accountId, ref.name);
  }

  private async write(latest: { value: unknown; revision: number }, meta: { value: FunctionMeta; revision: number }, next: FunctionMeta): Promise<boolean> {
    const rec = latest.value as { accountId: string; name: string };
    const k = `${rec.accountId}/${rec.name}`;
    try {
      await this.deps.metadata.batch([
        { op: "put", collection: FUNCTIONS, key: k, value: latest.value, expectedRevision: latest.revision },
        { op: "put", collection: META, key: k, value: next, expectedRevision: meta.revision },
      ]);
      return true;
    } catch (e) {
      if (e instanceof RevisionMismatchError) return false;
      throw e;
    }
  }

  async findProvisioned(accountId: string, fn: string, qualifier: string): Promise<ProvisionedConfigRecord | undefined> {
    return (await this.deps.metadata.get<ProvisionedConfigRecord>(PROVISIONED, `${accountId}/${fn}/${qualifier}`))?.value;
  }

  async listProvisioned(accountId: string, fn: string): Promise<ProvisionedConfigRecord[]> {
    return (await this.scan<ProvisionedConfigRecord>(PROVISIONED, `${accountId}/${fn}/`)).map((i) => i.value);
  }

  /** Every provisioned configuration on this server (recovery after a restart). */
  async allProvisioned(): Promise<ProvisionedConfigRecord[]> {
    return (await this.scan<ProvisionedConfigRecord>(PROVISIONED, "")).map((i) => i.value);
  }

  /** Every function with a reservation or provisioned concurrency (recovery of the counting ledger). */
  async allAllocations(): Promise<Array<{ accountId: string; name: string; allocation: FunctionAllocation }>> {
    const byFn = new Map<string, { accountId: string; name: string; allocation: FunctionAllocation }>();
    const at = (accountId: string, name: string) => {
      const k = `${accountId}/${name}`;
      return (byFn.get(k) ?? byFn.set(k, { accountId, name, allocation: { provisioned: 0 } }).get(k)!).allocation;
    };
    for (const { key, value } of await this.scan<FunctionMeta>(META, "")) {
      const [accountId, name] = key.split("/");
      if (value.reservedConcurrency !== undefined && accountId && name) at(accountId, name).reserved = value.reservedConcurrency;
    }
    for (const c of await this.allProvisioned()) at(c.accountId, c.functionName).provisioned += c.requested;
    return [...byFn.values()];
  }

  /**
   * Checks that `qualifier` names a published version or an alias of a published version.
   * `forPut` selects the message AWS gives for $LATEST on PutProvisionedConcurrencyConfig.
   */
  private async target(accountId: string, ref: FunctionRef, qualifier: string | undefined, forPut: boolean): Promise<{ alias?: { primary: string; additional?: string } }> {
    if (qualifier === undefined || qualifier === "") {
      throw validation("1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null");
    }
    if (qualifier === "$LATEST") throw invalidParameter(forPut ? UNPUBLISHED : NOT_ALIAS_OR_VERSION);
    await this.registry.load(accountId, ref);
    if (isVersionNumber(qualifier)) {
      await this.registry.versions.get(accountId, ref.name, qualifier);
      return {};
    }
    const alias = await this.registry.aliases.find(accountId, ref.name, qualifier);
    if (!alias) throw notFound(`Cannot find alias arn: ${this.registry.arn(accountId, ref.name, qualifier)}`);
    if (forPut && alias.functionVersion === "$LATEST") throw invalidParameter(UNPUBLISHED);
    return { alias: { primary: alias.functionVersion, ...(alias.additionalVersion ? { additional: alias.additionalVersion.version } : {}) } };
  }

  async putProvisioned(accountId: string, ref: FunctionRef, qualifier: string | undefined, requested: number): Promise<ProvisionedConfigRecord> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const target = await this.target(accountId, ref, qualifier, true);
      const q = qualifier!;
      const latest = await this.registry.load(accountId, ref);
      const configs = await this.listProvisioned(accountId, ref.name);
      if (target.alias) {
        if (configs.some((c) => c.qualifier === target.alias!.primary || c.qualifier === target.alias!.additional)) {
          throw conflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
        }
      } else {
        const pointing = (await this.registry.aliases.all(accountId, ref.name)).filter((a) => a.functionVersion === q || a.additionalVersion?.version === q);
        if (pointing.some((a) => configs.some((c) => c.qualifier === a.name))) throw conflict("Version is pointed by a Provisioned Concurrency alias");
      }
      const meta = await this.meta(accountId, ref.name);
      const elsewhere = configs.filter((c) => c.qualifier !== q).reduce((n, c) => n + c.requested, 0);
      checkProvisionedConcurrency(
        this.limit,
        await this.others(accountId, ref.name),
        { provisionedElsewhere: elsewhere, ...(meta.value.reservedConcurrency !== undefined ? { reserved: meta.value.reservedConcurrency } : {}) },
        requested,
      );
      const rec: ProvisionedConfigRecord = { accountId, functionName: ref.name, qualifier: q, requested, lastModified: this.deps.clock.now() };
      try {
        await this.deps.metadata.batch([
          { op: "put", collection: FUNCTIONS, key: `${accountId}/${ref.name}`, value: latest.value, expectedRevision: latest.revision },
          { op: "put", collection: PROVISIONED, key: `${accountId}/${ref.name}/${q}`, value: rec },
        ]);
      } catch (e) {
        if (e instanceof RevisionMismatchError) continue;
        throw e;
      }
      await this.announce(accountId, ref.name);
      return rec;
    }
    throw this.busy(accountId, ref.name);
  }

  async getProvisioned(accountId: string, ref: FunctionRef, qualifier: string | undefined): Promise<ProvisionedConfigRecord> {
    await this.target(accountId, ref, qualifier, false);
    const found = await this.findProvisioned(accountId, ref.name, qualifier!);
    if (!found) throw new KilnError("ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function");
    return found;
  }

  /** Removes a configuration; its environments stop being kept warm. Idempotent, like AWS. */
  async deleteProvisioned(accountId: string, ref: FunctionRef, qualifier: string | undefined): Promise<void> {
    await this.target(accountId, ref, qualifier, false);
    if (!(await this.findProvisioned(accountId, ref.name, qualifier!))) return;
    await this.deps.metadata.delete(PROVISIONED, `${accountId}/${ref.name}/${qualifier!}`);
    await this.announce(accountId, ref.name);
  }

  /** Tells the invoke path (counting, assignment) this function's current concurrency settings. */
  async announce(accountId: string, fn: string): Promise<void> {
    const meta = await this.deps.metadata.get<FunctionMeta>(META, `${accountId}/${fn}`);
    const provisioned = (await this.listProvisioned(accountId, fn)).reduce((n, c) => n + c.requested, 0);
    const reserved = meta?.value.reservedConcurrency;
    this.registry.emit({ kind: "concurrency", accountId, name: fn, provisioned, ...(reserved !== undefined ? { reserved } : {}) });
    this.registry.emit({ kind: "provisioned", accountId, name: fn });
  }

  private async scan<T>(collection: string, prefix: string): Promise<Array<{ key: string; value: T }>> {
    const out: Array<{ key: string; value: T }> = [];
    let after: string | undefined;
    do {
      const page = await this.deps.metadata.list<T>(collection, prefix, after === undefined ? { limit: 500 } : { after, limit: 500 });
      out.push(...page.items);
      after = page.next;
    } while (after !== undefined);
    return out;
  }

  private busy(accountId: string, fn: string): KilnError {
    return conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${this.registry.arn(accountId, fn)}`);
  }
}
