#!/usr/bin/env node
// The `kiln` command: runs the compiled CLI (`npm run build` produces dist/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
if (!existsSync(main)) {
  process.stderr.write("kiln: not built yet. Run `npm run build` (or `npm start`, which builds) in the project root.\n");
  process.exit(1);
}
await import(main);
