/** Lambda's FunctionUrlConfig wire shape, made from a record. */
import type { FunctionUrlRecord } from "./types.js";

/** Function URL timestamps: ISO 8601 with microseconds, `2021-11-23T23:08:55.452000Z`. */
export const urlTimestamp = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * CreateFunctionUrlConfig answers without LastModifiedTime; Get, Update and List items carry it.
 * `functionUrl` is where Kiln serves it (the server knows its own address).
 */
export function toFunctionUrlConfig(rec: FunctionUrlRecord, functionArn: string, functionUrl: string, opts: { created?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    FunctionUrl: functionUrl,
    FunctionArn: functionArn,
    AuthType: rec.authType,
    CreationTime: urlTimestamp(rec.creationTime),
    InvokeMode: rec.invokeMode,
  };
  if (rec.cors !== undefined) out.Cors = rec.cors;
  if (!opts.created) out.LastModifiedTime = urlTimestamp(rec.lastModifiedTime);
  return out;
}
