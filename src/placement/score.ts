/**
 * Scoring a worker of the shard for one new sandbox: lower is better. Pure.
 *
 * Algorithm: score = 1 x spread + 3 x heat + 1 x correlation + 0.5 x slack, where
 *   - spread: sandboxes of this configuration already on the worker (a count): one function is
 *     spread over its shard first, so losing a worker loses the smallest share of it;
 *   - heat: how far CPU is above HOT_CPU (0.8), scaled to 0..1 (cpu 0.9 -> 0.5, 1.0 -> 1): a worker
 *     at full CPU costs as much as three more sandboxes of the function; it is penalised, not
 *     excluded, so a busy shard still takes work;
 *   - correlation: the share of the worker's sandboxes that are other sandboxes of the same account
 *     (0..1). The account is the correlation proxy: one tenant's functions tend to burst together
 *     (same event sources, same deploys, same daily curve), so mixing accounts on a worker is what
 *     lets its peaks average out (statistical multiplexing). Shares, not counts, so a big worker
 *     that hosts many accounts is preferred over a small one dominated by this one;
 *   - slack: memory left free after the sandbox, as a fraction of the worker's total (0..1): among
 *     otherwise equal workers the tightest fit wins (best fit), keeping large holes for large
 *     sandboxes.
 * Ties (equal scores) go to the lower worker id, so the decision is deterministic.
 *
 * Worked example (128 MB sandbox of account A's f, totals 4096 MB, CPU 0.2 unless said):
 * worker x hosts 1 of f and 3 others of A out of 4, 1024 MB free -> 1 + 0 + 0.75 + 0.5 x 0.219 =
 * 1.859; worker y hosts none of f, 2 of A out of 10, CPU 0.9, 3000 MB free -> 0 + 1.5 + 0.2 +
 * 0.5 x 0.701 = 2.05; x wins: its extra sandbox of f costs less than y's heat.
 *
 * Known caveats: spread is a count while the other terms are fractions, so for a function with
 * many sandboxes spread dominates (by design); worker sizes are not normalised in spread.
 */
import type { WorkerLoad } from "./load.js";

/** CPU utilisation above which a worker is penalised as hot. */
export const HOT_CPU = 0.8;

export const SCORE_WEIGHTS = { spread: 1, heat: 3, correlation: 1, slack: 0.5 } as const;

export interface ScoreTerms {
  spread: number;
  heat: number;
  correlation: number;
  slack: number;
}

export interface ScoredRequest {
  configKey: string;
  accountId: string;
  memoryMB: number;
}

export function scoreTerms(request: ScoredRequest, w: WorkerLoad, hotCpu: number = HOT_CPU): ScoreTerms {
  const spread = Math.max(0, w.sandboxesOf(request.configKey));
  const cpu = Math.min(1, Math.max(0, w.cpu));
  const heat = hotCpu >= 1 ? 0 : Math.max(0, cpu - hotCpu) / (1 - hotCpu);
  const others = Math.max(0, w.sandboxesOfAccount(request.accountId) - spread);
  const correlation = w.runningSandboxes > 0 ? Math.min(1, others / w.runningSandboxes) : 0;
  const slack = Math.min(1, Math.max(0, (w.freeMemoryMB - request.memoryMB) / w.totalMemoryMB));
  return { spread, heat, correlation, slack };
}

export function score(t: ScoreTerms): number {
  return SCORE_WEIGHTS.spread * t.spread + SCORE_WEIGHTS.heat * t.heat + SCORE_WEIGHTS.correlation * t.correlation + SCORE_WEIGHTS.slack * t.slack;
}
