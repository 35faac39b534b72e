/**
 * Isolation "none" only: a TCP listener on the host's loopback, forwarding every connection to
 * the sandbox's Runtime API unix socket (what socat does inside a jail). One per sandbox, on a
 * port the kernel picks; the runtime finds it in AWS_LAMBDA_RUNTIME_API.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface LoopbackBridge {
  /** "127.0.0.1:<port>" */
  readonly address: string;
  close(): Promise<void>;
}

export async function openLoopbackBridge(unixSocket: string): Promise<LoopbackBridge> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(unixSocket);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.setNoDelay(true);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("loopback bridge has no TCP address");
  return {
    address: `127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
