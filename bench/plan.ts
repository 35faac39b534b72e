/**
 * How long and how often each scenario measures, for a full run (numbers worth quoting, ~25 min with every scenario)
 * and for --quick (every code path once, ~2-3 min, numbers never quoted), and what every scenario
 * gets to work with.
 */
import type { Isolation } from "../src/base/index.js";
import type { BenchRuntime } from "./functions.js";
import type { PeerInstall } from "./peers/serverless-offline.js";

export interface Plan {
  quick: boolean;
  warm: {
    rounds: number;
    /** Measured seconds per (target, concurrency, round). */
    durationS: number;
    /** Unmeasured load just before each measurement. */
    warmupS: number;
    /** Unmeasured load at the highest concurrency before round 1 (creates the environments). */
    primeS: number;
    concurrency: number[];
  };
  cold: { rounds: number; samples: number; runtimes: BenchRuntime[] };
  peerCold: { rounds: number; samples: number; restarts: number };
  scaleUp: { rounds: number; environments: number; sleepMs: number };
  memory: { rounds: number; counts: number[]; settleMs: number };
  /** Issue 9's placement scenario: function keys per blast-radius case; timed batches per fleet size. */
  placement: { functions: number; batches: number; batchMs: number };
}

export function makePlan(quick: boolean): Plan {
  return quick
    ? {
        quick,
        warm: { rounds: 1, durationS: 2, warmupS: 0.5, primeS: 1, concurrency: [1, 10, 50] },
        cold: { rounds: 1, samples: 3, runtimes: ["nodejs20.x", "python3.11", "provided.al2023"] },
        peerCold: { rounds: 1, samples: 5, restarts: 1 },
        scaleUp: { rounds: 1, environments: 100, sleepMs: 1000 },
        // 100 environments are exercised by scale-up; here 10 keep the quick run short.
        memory: { rounds: 1, counts: [10], settleMs: 1000 },
        placement: { functions: 5000, batches: 3, batchMs: 50 },
      }
    : {
        quick,
        warm: { rounds: 5, durationS: 8, warmupS: 1, primeS: 3, concurrency: [1, 10, 50] },
        cold: { rounds: 3, samples: 30, runtimes: ["nodejs20.x", "python3.11", "provided.al2023"] },
        peerCold: { rounds: 3, samples: 30, restarts: 10 },
        scaleUp: { rounds: 5, environments: 100, sleepMs: 1000 },
        memory: { rounds: 3, counts: [10, 100], settleMs: 3000 },
        placement: { functions: 10_000, batches: 5, batchMs: 100 },
      };
}

export interface BenchContext {
  plan: Plan;
  /** Kiln's sandbox isolation under test (the numbers quoted come from "process", the jailed mode). */
  isolation: Isolation;
  /** Node flags for every Kiln server process (--cpu-prof writes one profile per server). */
  kilnNodeArgs: string[];
  /** Resolves once the peer is installed (or failed to install). */
  peer: Promise<PeerInstall>;
  /** One line of progress on stdout. */
  progress(line: string): void;
}
