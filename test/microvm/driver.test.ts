/**
 * The microvm driver against the shared sandbox suite, under whatever accelerator the probe picks
 * (TCG on these machines: each boot takes seconds, so the suite waits longer). The guest image is
 * built once into KILN_IMAGE_CACHE (default ~/.cache/kiln/images) and reused by every test file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { Workspace, pythonBootstrap } from "../../src/sandbox/testkit.js";
import { createLogger } from "../../src/base/index.js";
import { sandboxDriverSuite } from "../../src/sandbox/sandbox.case.js";
import { createMicroVmDriver } from "../../src/sandbox/microvm/index.js";

const logger = createLogger("microvm-test", "error");
const progress = (l: string) => process.stderr.write(l + "\n");

sandboxDriverSuite("microvm", ({ runtimesDir }) => createMicroVmDriver({ runtimesDir, logger, progress }), { restartKeepsPid: true, waitMs: 90_000 });

describe("microvm isolation", () => {
  let ws: Workspace;
  before(async () => {
    ws = await Workspace.create();
  });
  after(() => ws.remove());

  test("from inside the guest, nothing of the host is reachable but the Runtime API", async (t) => {
    // A host server on every interface: the guest must not reach it by any address.
    const seen: string[] = [];
    const server = createServer((s) => {
      seen.push(String(s.remoteAddress));
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "0.0.0.0", () => r()));
    const port = (server.address() as AddressInfo).port;
    const driver = createMicroVmDriver({ logger, progress });
    const { spec, api, events } = await ws.sandbox({
      bootstrap: pythonBootstrap(`import socket
def probe(host, port, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(2)
    try:
        if kind == socket.SOCK_DGRAM:
            s.sendto(b"x", (host, port)); s.recvfrom(10)
        else:
            s.connect((host, port))
        return "reached"
    except Exception as e:
        return type(e).__name__
    finally:
        s.close()
targets = {"gateway": ("10.0.2.2", ${port}), "dns": ("10.0.2.3", 53), "internet": ("1.1.1.1", 443), "host-loopback-port": ("127.0.0.1", ${port}), "forward-other-port": ("10.0.2.100", 22)}
res = {k: probe(*v) for k, v in targets.items()}
res["dns-udp"] = probe("10.0.2.3", 53, socket.SOCK_DGRAM)
res["host-files"] = [p for p in ["${ws.root}", "/work", "/root", "/etc/shadow", "/usr/bin/qemu-system-x86_64"] if os.path.exists(p)]
res["api"] = urllib.request.urlopen(api + "/invocation/next", timeout=30).status
print("PROBE=" + json.dumps(res))`),
    });
    const sandbox = await driver.create(spec, events);
    try {
      const m = await events.waitForOutput(/PROBE=(.*)/, 120_000);
      const res = JSON.parse(m[1]!) as Record<string, unknown>;
      t.diagnostic(JSON.stringify(res));
      assert.equal(res.api, 200, "the Runtime API answers");
      for (const k of ["gateway", "dns", "internet", "host-loopback-port", "forward-other-port", "dns-udp"]) assert.notEqual(res[k], "reached", `${k} was reachable`);
      assert.deepEqual(res["host-files"], []);
      assert.deepEqual(seen, [], "the host server saw no connection");
    } finally {
      await sandbox.destroy();
      await api.close();
      server.close();
    }
  });
});
