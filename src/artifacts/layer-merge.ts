/**
 * The merge plan for a function's layers: which layer provides each path of the tree mounted at
 * /opt. Pure; merged-layers.ts carries it out with hard links.
 *
 * Algorithm: Lambda extracts the layers into /opt one after the other, so a later layer wins for
 * the same path. Walk the layers in order, each one's entries parents-first; directories merge
 * (both layers' contents stay); a file or symlink replaces whatever was at its path (a directory
 * there goes with everything under it); a directory where an earlier layer had a file or symlink
 * replaces it.
 *
 * Worked example:
 *   layer 0: nodejs/ nodejs/node_modules/ nodejs/node_modules/a.js  bin/ bin/tool (v1)
 *   layer 1: bin/ bin/tool (v2)  python/ python/m.py
 *   -> bin/ (1), bin/tool (1), nodejs/ (0), nodejs/node_modules/ (0), nodejs/node_modules/a.js (0),
 *      python/ (1), python/m.py (1)
 *
 * Known caveats: a symlink to a directory is a leaf here (a later layer's files under that path
 * replace the symlink rather than landing in its target), which matches no single unzip tool
 * exactly; real layers do not do this.
 */

export type LayerEntryKind = "dir" | "file" | "symlink";

export interface LayerEntry {
  /** "/"-separated, relative to the layer's root, no leading or trailing slash. */
  path: string;
  kind: LayerEntryKind;
}

export interface PlannedLayerEntry extends LayerEntry {
  /** Index of the layer the entry comes from. */
  layer: number;
}

/** The merged tree, sorted so that every directory comes before what it holds. */
export function planLayerMerge(layers: LayerEntry[][]): PlannedLayerEntry[] {
  const merged = new Map<string, PlannedLayerEntry>();
  const dropSubtree = (path: string): void => {
    const prefix = path + "/";
    for (const k of [...merged.keys()]) if (k.startsWith(prefix)) merged.delete(k);
  };
  layers.forEach((entries, layer) => {
    for (const e of entries) {
      const parts = e.path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const ancestor = parts.slice(0, i).join("/");
        const a = merged.get(ancestor);
        if (a === undefined) merged.set(ancestor, { path: ancestor, kind: "dir", layer });
        else if (a.kind !== "dir") merged.set(ancestor, { path: ancestor, kind: "dir", layer });
      }
      const existing = merged.get(e.path);
      if (existing?.kind === "dir" && e.kind === "dir") continue;
      if (existing?.kind === "dir") dropSubtree(e.path);
      merged.set(e.path, { ...e, layer });
    }
  });
  return [...merged.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
