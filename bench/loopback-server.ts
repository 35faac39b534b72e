/**
 * The loopback ceiling: a bare node:http server that answers every request with the bytes Kiln
 * answered one warm Invoke with (status, headers, body), after reading the request body. Run as
 * its own process, like the servers it is compared with:
 *
 *   node dist/bench/loopback-server.js '<json: {status, headers: [name, value, ...], body}>'
 *
 * Prints "listening on http://127.0.0.1:<port>".
 */
import http from "node:http";
import { fileURLToPath } from "node:url";

export interface CannedAnswer {
  status: number;
  /** Flat [name, value, ...] as http.IncomingMessage.rawHeaders has them (hop-by-hop ones removed). */
  headers: string[];
  body: string;
}

/** Headers node:http writes itself (and Kiln's server wrote the same way). */
const WRITTEN_BY_NODE = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

export function cannedAnswer(status: number, rawHeaders: string[], body: string): CannedAnswer {
  const headers: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!WRITTEN_BY_NODE.has(rawHeaders[i]!.toLowerCase())) headers.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return { status, headers, body };
}

function serve(answer: CannedAnswer): void {
  const body = Buffer.from(answer.body);
  const headers = [...answer.headers, "Content-Length", String(body.length)];
  const server = http.createServer((req, res) => {
    req.on("data", () => undefined);
    req.on("end", () => {
      res.writeHead(answer.status, headers);
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const addr = server.address();
    if (addr === null || typeof addr === "string") throw new Error("no TCP address");
    process.stdout.write(`listening on http://127.0.0.1:${addr.port}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

export const LOOPBACK_SERVER = fileURLToPath(import.meta.url);

if (process.argv[1] === LOOPBACK_SERVER) {
  serve(JSON.parse(process.argv[2] ?? "{}") as CannedAnswer);
}
