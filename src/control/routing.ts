/**
 * Alias routing (RoutingConfig.AdditionalVersionWeights), pure: AWS's checks in AWS's order, and
 * the per-invoke choice.
 *
 * Algorithm: an alias names a primary version and at most one additional published version with a
 * weight w in [0, 1]. Each invoke draws r uniformly from [0, 1) and runs the additional version
 * when r < w, else the primary: the additional version gets a share w of invokes, the primary 1 - w.
 *
 * Worked example: alias live -> "1", AdditionalVersionWeights {"2": 0.3}; draws 0.12 -> "2",
 * 0.57 -> "1", 0.29 -> "2", 0.30 -> "1". Over 1,000 invokes about 300 run "2".
 *
 * Known caveats: each invoke draws independently (AWS documents the same probabilistic split), so
 * small samples stray from w; weight 0 keeps the entry but never routes to it.
 */
import { invalidParameter, validation } from "../base/index.js";

export interface RoutingEntry {
  version: string;
  weight: number;
}

type Json = Record<string, unknown>;

/** Java's Double.toString, as AWS prints weights in its messages: 1 -> "1.0", 0.25 -> "0.25". */
const javaDouble = (v: unknown): string => (typeof v === "number" && Number.isInteger(v) ? v.toFixed(1) : String(v));

/** The AdditionalVersionWeights map of a RoutingConfig, or undefined when there is none or it is empty. */
export function parseRoutingConfig(raw: unknown): Json | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) throw invalidParameter("Invalid type for parameter RoutingConfig, valid types: structure");
  const weights = (raw as Json).AdditionalVersionWeights;
  if (weights === undefined || weights === null) return undefined;
  if (typeof weights !== "object" || Array.isArray(weights)) throw invalidParameter("Invalid type for parameter RoutingConfig.AdditionalVersionWeights, valid types: map");
  return Object.keys(weights).length === 0 ? undefined : (weights as Json);
}

/** Checks a routing configuration against the alias's primary version; the entry, or undefined for none. */
export function checkRouting(primary: string, weights: Json): RoutingEntry | undefined {
  const entries = Object.entries(weights);
  if (entries.length > 1) throw invalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1");
  const [entry] = entries;
  if (!entry) return undefined;
  const [version, weight] = entry;
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw validation(
      `1 validation error detected: Value '{${version}=${javaDouble(weight)}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`,
    );
  }
  if (version === primary) throw invalidParameter(`Invalid function version ${primary}. Function version ${primary} is already included in routing configuration.`);
  if (primary === "$LATEST") throw invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version");
  if (!/^[0-9]{1,1024}$/.test(version)) {
    throw validation(
      `1 validation error detected: Value '{${version}=${javaDouble(weight)}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]`,
    );
  }
  return { version, weight };
}

/** The per-invoke choice: true runs the additional version. `random` returns values in [0, 1). */
export const routesToAdditional = (weight: number, random: () => number): boolean => random() < weight;
