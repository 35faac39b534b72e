/** Ending a long-running command: close cleanly, but never hang on it. */
import type { CliContext } from "./context.js";

/** How long a clean shutdown may take before the process exits anyway. */
export const CLOSE_TIMEOUT_MS = 15_000;

/** Runs `close`; exit code 0 when it finished within CLOSE_TIMEOUT_MS, else 1 (and says so). */
export async function closeWithin(close: () => Promise<void>, ctx: Pick<CliContext, "err">): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS);
    timer.unref();
  });
  const late = await Promise.race([close().then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    ctx.err(`kiln: still closing after ${CLOSE_TIMEOUT_MS / 1000} s, exiting anyway`);
    return 1;
  }
  return 0;
}
