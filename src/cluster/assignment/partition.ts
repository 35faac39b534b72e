/**
 * Which assignment partition owns a function: a stable hash of `accountId/functionName`, so every
 * configuration (version, alias target, $LATEST generation) of one function lands on one partition
 * and one leader sees all of its environments (drains by function prefix stay local).
 *
 * Algorithm: FNV-1a (32 bit) over the UTF-8 bytes of the function key, modulo the partition count.
 * Worked example: "123456789012/hello" -> fnv1a = some u32 h; partition = h % 8. The same key gives
 * the same partition in every process, on every machine, forever (no seed).
 *
 * Known caveats: changing the partition count moves most functions to another partition; their
 * warm environments are then unknown to the new owner (they age out on the workers). Keep the
 * count fixed for a cluster's life.
 */

/** `accountId/functionName` of a configuration key (`accountId/name/version/...`) or of a drain prefix. */
export function functionKeyOf(configKey: string): string {
  const [account = "", name = ""] = configKey.split("/");
  return `${account}/${name}`;
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function partitionOf(functionKey: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return fnv1a(functionKey) % partitions;
}

/** The partition of a configuration key (all configurations of one function share it). */
export const partitionOfConfig = (configKey: string, partitions: number): number => partitionOf(functionKeyOf(configKey), partitions);

/**
 * The partitions a drain scope can touch: its function's partition when the prefix names a whole
 * function (`account/name/...`), else every partition.
 */
export function partitionsOfScope(prefix: string, partitions: number): number[] {
  const parts = prefix.split("/");
  if (parts.length >= 3 && parts[0] && parts[1]) return [partitionOf(`${parts[0]}/${parts[1]}`, partitions)];
  return Array.from({ length: partitions }, (_, i) => i);
}
