/**
 * Placement: which worker gets a new sandbox.
 *
 * Algorithm (standalone form): among workers that are `active` and have room for the sandbox's
 * memory, prefer the one already hosting the fewest sandboxes of this function (spreading one
 * function across workers), then the one with the least free memory that still fits (packing
 * density: best fit), then the lowest id (determinism).
 *
 * Worked example: new 128 MB sandbox of f; w1 (free 1000 MB, 2 of f), w2 (free 300 MB, 0 of f),
 * w3 (free 100 MB, 0 of f). w3 cannot fit; w2 hosts fewer f than w1 -> w2.
 *
 * Known caveats: shuffle sharding and load signals beyond memory arrive with the cluster issue;
 * with one worker (standalone) this reduces to "the worker, if it has room".
 */

export interface WorkerLoad {
  id: string;
  state: "active" | "draining";
  freeMemoryMB: number;
  sandboxesOf: (configKey: string) => number;
}

export interface PlacementRequest {
  configKey: string;
  memoryMB: number;
}

export function place(request: PlacementRequest, workers: readonly WorkerLoad[]): string | undefined {
  let best: { id: string; spread: number; free: number } | undefined;
  for (const w of workers) {
    if (w.state !== "active" || w.freeMemoryMB < request.memoryMB) continue;
    const cand = { id: w.id, spread: w.sandboxesOf(request.configKey), free: w.freeMemoryMB };
    if (
      !best ||
      cand.spread < best.spread ||
      (cand.spread === best.spread && (cand.free < best.free || (cand.free === best.free && cand.id < best.id)))
    ) {
      best = cand;
    }
  }
  return best?.id;
}
