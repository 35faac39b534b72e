/**
 * BlobStore on the JetStream object store `kiln-code`: objects are chunked by the client (128 KB
 * messages) and checked against their SHA-256 on read by the client library. Names are stored
 * encoded by the library, so any key string works.
 */
import type { ObjectStore } from "@nats-io/obj";
import type { BlobStore } from "../contract.js";

export class NatsBlobStore implements BlobStore {
  constructor(readonly objects: ObjectStore) {}

  async put(key: string, data: Buffer): Promise<void> {
    await this.objects.putBlob({ name: key }, data);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const data = await this.objects.getBlob(key);
    return data === null ? undefined : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  async has(key: string): Promise<boolean> {
    const info = await this.objects.info(key);
    return info !== null && !info.deleted;
  }

  async delete(key: string): Promise<void> {
    if (await this.has(key)) await this.objects.delete(key);
  }
}
