/**
 * `node dist/bench/coldstart-main.js [--quick] [--isolation none] [--only cold-pool,snapstart]`:
 * runs the cold-start scenarios of issue 7 (scenarios/cold-pool.ts, scenarios/snapstart.ts) on
 * their own and prints their Markdown. The full harness (bench/main.ts) runs them too once they
 * are registered there; this entry point exists so they can be run alone.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { Isolation } from "../src/base/index.js";
import * as coldPool from "./scenarios/cold-pool.js";
import * as snapStart from "./scenarios/snapstart.js";
import type { ScenarioContext } from "./scenarios/coldstart-kit.js";

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, isolation: { type: "string", default: "process" }, only: { type: "string" } } });
  const only = (values.only ?? "cold-pool,snapstart").split(",");
  const started = performance.now();
  const ctx: ScenarioContext = {
    plan: { quick: values.quick === true },
    isolation: values.isolation as Isolation,
    progress: (line) => process.stdout.write(`[bench ${Math.round((performance.now() - started) / 1000)}s] ${line}\n`),
  };
  ctx.progress(`${ctx.plan.quick ? "quick" : "full"} run, isolation ${ctx.isolation}, load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}`);
  const out: string[] = [];
  if (only.includes("cold-pool")) out.push("## Cold start from the pool", "", coldPool.markdown(await coldPool.run(ctx)));
  if (only.includes("snapstart")) out.push("", "## SnapStart, heavy init", "", snapStart.markdown(await snapStart.run(ctx)));
  process.stdout.write("\n" + out.join("\n") + "\n");
  ctx.progress(`done; load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
