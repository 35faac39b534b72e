/**
 * The heavy-init Node function of the SnapStart scenario, generated: MODULES CommonJS modules of
 * ~11 KB each (~1.3 MB of JavaScript: classes, lookup tables built at load, many functions), all
 * required by the handler's module, which then fills a 150,000-entry Map: the shape of the program
 * docs/FACTS.md measured (~400 ms of init on these machines). Deterministic, so every run bundles
 * and snapshots the same code.
 */
export const MODULES = 120;
export const MAP_ENTRIES = 150_000;

function moduleSource(i: number): string {
  const fns: string[] = [];
  for (let f = 0; f < 40; f++) {
    fns.push(`function op${i}_${f}(a, b) { const t = a * ${f + 1} + (b ^ ${i}); if (t % 3 === 0) return t / 3 + table[(t >>> 0) % table.length].weight; return [a, b, t].map((x) => x + ${f}).reduce((s, x) => s + x, 0); }`);
  }
  return `"use strict";
const peers = [${i > 0 ? `require("./m${i - 1}.js")` : ""}];
class Record${i} {
  constructor(id) { this.id = id; this.name = "record-${i}-" + id; this.tags = [id % 7, id % 11, id % 13]; this.weight = (id * ${i + 1}) % 97; }
  describe() { return this.name + ":" + this.tags.join(","); }
}
const table = Array.from({ length: 200 }, (_, k) => new Record${i}(k));
const index = Object.fromEntries(table.map((r) => [r.name, r]));
${fns.join("\n")}
module.exports = { Record${i}, table, index, peers: peers.length, ops: [${Array.from({ length: 40 }, (_, f) => `op${i}_${f}`).join(", ")}] };
`;
}

/** The package's files: index.js (the handler) and m0.js .. m<MODULES-1>.js. */
export function heavyFunctionFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < MODULES; i++) files[`m${i}.js`] = moduleSource(i);
  files["index.js"] = `"use strict";
const modules = [${Array.from({ length: MODULES }, (_, i) => `require("./m${i}.js")`).join(", ")}];
const cache = new Map();
for (let i = 0; i < ${MAP_ENTRIES}; i++) cache.set("key-" + i, { i, square: i * i, label: "v" + (i % 1000) });
const environment = Math.random().toString(36).slice(2, 10);
exports.handler = async () => ({ ok: true, environment, modules: modules.length, entries: cache.size, sample: modules[7].ops[3](5, 9) });
`;
  return files;
}
