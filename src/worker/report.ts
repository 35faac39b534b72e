/** Lambda's platform log lines: START, END, REPORT, and the timeout notice. */

export const startLine = (requestId: string, version: string): string => `START RequestId: ${requestId} Version: ${version}`;
export const endLine = (requestId: string): string => `END RequestId: ${requestId}`;

export interface ReportFigures {
  durationMs: number;
  memoryMB: number;
  maxMemoryUsedMB: number;
  initDurationMs?: number;
  /** SnapStart: the init was a restore from a snapshot (Lambda then reports Restore Duration instead). */
  restored?: boolean;
}

export function reportLine(requestId: string, f: ReportFigures): string {
  const billed = Math.max(1, Math.ceil(f.durationMs));
  let line = `REPORT RequestId: ${requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${f.memoryMB} MB\tMax Memory Used: ${Math.max(1, Math.round(f.maxMemoryUsedMB))} MB\t`;
  if (f.initDurationMs !== undefined && f.restored) line += `Restore Duration: ${f.initDurationMs.toFixed(2)} ms\tBilled Restore Duration: ${Math.max(1, Math.ceil(f.initDurationMs))} ms\t`;
  else if (f.initDurationMs !== undefined) line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  return line;
}

/** The last `maxBytes` bytes of the log text, as X-Amz-Log-Result carries them (before base64). */
export function logTail(lines: string[], maxBytes = 4096): Buffer {
  const text = Buffer.from(lines.map((l) => l + "\n").join(""));
  return text.length <= maxBytes ? text : text.subarray(text.length - maxBytes);
}
