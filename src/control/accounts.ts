/** Accounts and their access keys. The root account is made (or re-keyed) at start-up. */
import { accessKeyId, accountId as newAccountId, invalidParameter, conflict, secretAccessKey, type Clock } from "../base/index.js";
import type { MetadataStore } from "../store/index.js";
import type { AccountRecord } from "./types.js";

const ACCOUNTS = "accounts";
const KEYS = "access-keys";
const ROOT = "root";

export class Accounts {
  private readonly byKey = new Map<string, AccountRecord>();

  constructor(private readonly metadata: MetadataStore, private readonly clock: Clock) {}

  /** The root account, created on first start; its key pair replaced when the operator supplies one. */
  async ensureRoot(keys?: { accessKeyId: string; secretAccessKey: string }): Promise<{ account: AccountRecord; generated: boolean }> {
    const existing = await this.metadata.get<AccountRecord>(ACCOUNTS, ROOT);
    if (existing && (!keys || (keys.accessKeyId === existing.value.accessKeyId && keys.secretAccessKey === existing.value.secretAccessKey))) {
      return { account: existing.value, generated: false };
    }
    const account: AccountRecord = {
      accountId: existing?.value.accountId ?? "000000000000",
      name: "root",
      accessKeyId: keys?.accessKeyId ?? accessKeyId(),
      secretAccessKey: keys?.secretAccessKey ?? secretAccessKey(),
      root: true,
      createdAt: existing?.value.createdAt ?? this.clock.now(),
    };
    const ops: Parameters<MetadataStore["batch"]>[0] = [
      { op: "put", collection: ACCOUNTS, key: ROOT, value: account },
      { op: "put", collection: KEYS, key: account.accessKeyId, value: { accountId: account.accountId, name: ROOT } },
    ];
    if (existing && existing.value.accessKeyId !== account.accessKeyId) ops.push({ op: "delete", collection: KEYS, key: existing.value.accessKeyId });
    await this.metadata.batch(ops);
    this.byKey.clear();
    return { account, generated: keys === undefined };
  }

  async create(name: string): Promise<AccountRecord> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9-_.]{0,63}$/.test(name)) throw invalidParameter("Account names are 1-64 characters: letters, digits, '-', '_' and '.'.");
    if (name === ROOT || (await this.metadata.get(ACCOUNTS, name))) throw conflict(`Account already exists: ${name}`);
    let id = newAccountId();
    while (id === "000000000000") id = newAccountId();
    const account: AccountRecord = { accountId: id, name, accessKeyId: accessKeyId(), secretAccessKey: secretAccessKey(), root: false, createdAt: this.clock.now() };
    await this.metadata.batch([
      { op: "put", collection: ACCOUNTS, key: name, value: account, expectedRevision: 0 },
      { op: "put", collection: KEYS, key: account.accessKeyId, value: { accountId: id, name }, expectedRevision: 0 },
    ]);
    return account;
  }

  /** The account owning an access key, or undefined. Cached: keys never change owner. */
  async byAccessKey(keyId: string): Promise<AccountRecord | undefined> {
    const cached = this.byKey.get(keyId);
    if (cached) return cached;
    const ref = await this.metadata.get<{ accountId: string; name: string }>(KEYS, keyId);
    if (!ref) return undefined;
    const account = (await this.metadata.get<AccountRecord>(ACCOUNTS, ref.value.name))?.value;
    if (account && account.accessKeyId === keyId) this.byKey.set(keyId, account);
    return account;
  }
}
