# Kiln's in-guest agent: PID 1 of every micro-VM sandbox (exec'd by /sbin/init once the disks
# are mounted). It owns one runtime process tree at a time, in a cgroup v2 group limited to the
# function's memory, and talks to the host over one virtio-serial port ("kiln.ctl") in JSON lines:
#
#   host -> guest  {"t":"run","argv":[...],"env":{...},"cwd":"/var/task","memoryMB":128,"uid":993}
#                  {"t":"restart"}      kill the tree (no exit report), start it again
#                  {"t":"stats","id":1} -> {"t":"stats","id":1,"peak":<bytes>}
#                  {"t":"reseed","seed":"<base64>","id":2} -> {"t":"reseeded","id":2}
#                  {"t":"restored","seed":"<base64>","id":3} -> {"t":"restored","id":3}: after a
#                  snapshot restore: reseed, then reconnect the Runtime API forwards
#   guest -> host  {"t":"next"}   a restored clone's runtime asks for its second event
#                  {"t":"ready"}  {"t":"started","pid":N}  {"t":"out","d":"<base64>"}
#                  {"t":"exit","code":N|null,"signal":"SIGKILL"|null,"oom":bool}
#
# Output and exits travel on the same port in order, so all output precedes its exit. It also
# serves 127.0.0.1:9001 (AWS_LAMBDA_RUNTIME_API) by forwarding each connection to 10.0.2.100:9001,
# QEMU's user-mode network forward to the worker's Runtime API socket (the only address the
# network reaches). No host code is imported here: the guest has Python's standard library only.
import asyncio, base64, fcntl, json, os, signal, struct, sys

CG_ROOT = "/sys/fs/cgroup"
RUNTIME_API = ("127.0.0.1", 9001)
FORWARD = ("10.0.2.100", 9001)
RNDADDENTROPY = 0x40085203
RNDRESEEDCRNG = 0x5207
# Added to the first Runtime API answer a restored clone's runtime receives (see reconnect()).
RESTORED_HEADER = b"Kiln-Restored: 1\r\n"


def find_port(name):
    base = "/sys/class/virtio-ports"
    for _ in range(500):
        if os.path.isdir(base):
            for p in os.listdir(base):
                try:
                    with open(f"{base}/{p}/name") as f:
                        if f.read().strip() == name:
                            return f"/dev/{p}"
                except OSError:
                    pass
        import time
        time.sleep(0.01)
    raise SystemExit(f"kiln-agent: no virtio port {name}")


class Agent:
    def __init__(self, loop):
        self.loop = loop
        self.ctl = os.open(find_port("kiln.ctl"), os.O_RDWR)
        self.inbuf = b""
        self.config = None
        self.gen = 0
        self.pid = None  # the runtime's pid while it runs
        self.status = None  # its wait status once reaped
        self.out_fd = None
        self.discard = False  # exit of a tree killed on purpose: not reported
        self.after_exit = []  # callbacks once the current tree is fully gone
        self.conns = set()
        self.conn_objs = {}  # live Runtime API forwards
        self.watch_next = False  # after a restore: report the runtime's next GET /next

    def send(self, msg):
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.ctl, view)
                view = view[n:]
            except BlockingIOError:
                import select
                select.select([], [self.ctl], [], 1)

    # ---- control channel
    def on_ctl(self):
        try:
            chunk = os.read(self.ctl, 65536)
        except BlockingIOError:
            return
        if not chunk:
            return
        self.inbuf += chunk
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            if line.strip():
                self.handle(json.loads(line))

    def handle(self, m):
        t = m.get("t")
        if t == "run":
            self.config = m
            self.start()
        elif t == "restart":
            self.kill_tree(then=self.start)
        elif t == "stats":
            self.send({"t": "stats", "id": m.get("id"), "peak": self.peak()})
        elif t == "reseed":
            self.reseed(base64.b64decode(m["seed"]))
            self.send({"t": "reseeded", "id": m.get("id")})
        elif t == "restored":
            asyncio.ensure_future(self.restored(m))
        elif t == "ping":
            self.send({"t": "pong", "id": m.get("id")})

    # ---- the runtime tree
    def cg(self):
        return f"{CG_ROOT}/rt{self.gen}"

    def start(self):
        c = self.config
        self.gen += 1
        cg = self.cg()
        os.mkdir(cg)
        limit = int(c["memoryMB"]) << 20
        for name, value in (("memory.max", str(limit)), ("memory.swap.max", "0"), ("memory.oom.group", "1"), ("pids.max", "1024")):
            try:
                with open(f"{cg}/{name}", "w") as f:
                    f.write(value)
            except OSError:
                pass
        r, w = os.pipe()
        argv, env, cwd, uid = c["argv"], c["env"], c.get("cwd", "/var/task"), int(c.get("uid", 993))
        pid = os.fork()
        if pid == 0:
            try:
                with open(f"{cg}/cgroup.procs", "w") as f:
                    f.write(str(os.getpid()))
                os.setsid()
                null = os.open("/dev/null", os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(w, 1)
                os.dup2(w, 2)
                os.closerange(3, 1024)
                for s in (signal.SIGCHLD, signal.SIGPIPE, signal.SIGTERM, signal.SIGINT):
                    signal.signal(s, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.chdir(cwd)
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.execve(argv[0], argv, env)
            except BaseException as e:  # noqa: BLE001 - the child must never return
                try:
                    os.write(2, f"kiln-agent: cannot start {argv[0]}: {e}\n".encode())
                finally:
                    os._exit(127)
        os.close(w)
        self.pid, self.status, self.out_fd, self.discard = pid, None, r, False
        os.set_blocking(r, False)
        self.loop.add_reader(r, self.on_output)
        self.send({"t": "started", "pid": pid})

    def on_output(self):
        try:
            chunk = os.read(self.out_fd, 65536)
        except BlockingIOError:
            return
        if chunk:
            if not self.discard:
                self.send({"t": "out", "d": base64.b64encode(chunk).decode()})
            return
        self.loop.remove_reader(self.out_fd)
        os.close(self.out_fd)
        self.out_fd = None
        self.maybe_finished()

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid:
                self.status = status
                # The tree goes with its main process (as a Lambda runtime's would): this also
                # closes every copy of the output pipe.
                self.kill_cgroup()
                self.maybe_finished()

    def kill_cgroup(self):
        try:
            with open(f"{self.cg()}/cgroup.kill", "w") as f:
                f.write("1")
        except OSError:
            pass

    def oom_killed(self):
        try:
            with open(f"{self.cg()}/memory.events") as f:
                for line in f:
                    k, v = line.split()
                    if k == "oom_kill" and int(v) > 0:
                        return True
        except OSError:
            pass
        return False

    def maybe_finished(self):
        if self.status is None or self.out_fd is not None:
            return
        status, discard = self.status, self.discard
        oom = self.oom_killed()
        self.pid = None
        try:
            os.rmdir(self.cg())
        except OSError:
            pass
        if not discard:
            if os.WIFSIGNALED(status) or oom:
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else signal.SIGKILL
                self.send({"t": "exit", "code": None, "signal": signal.Signals(sig).name, "oom": oom})
            else:
                self.send({"t": "exit", "code": os.WEXITSTATUS(status), "signal": None, "oom": False})
        callbacks, self.after_exit = self.after_exit, []
        for cb in callbacks:
            cb()

    def kill_tree(self, then):
        if self.pid is None:
            # Already gone (reported): remove its leftovers and go on.
            then()
            return
        self.discard = True
        self.after_exit.append(then)
        self.kill_cgroup()

    def peak(self):
        for name in ("memory.peak", "memory.current"):
            try:
                with open(f"{self.cg()}/{name}") as f:
                    return int(f.read())
            except OSError:
                continue
        return 0

    # ---- restore uniqueness: fresh entropy from the host into the kernel's pool
    def reseed(self, seed):
        fd = os.open("/dev/urandom", os.O_WRONLY)
        try:
            fcntl.ioctl(fd, RNDADDENTROPY, struct.pack("ii", len(seed) * 8, len(seed)) + seed)
            fcntl.ioctl(fd, RNDRESEEDCRNG)
        finally:
            os.close(fd)

    # ---- 127.0.0.1:9001 -> the Runtime API forward
    # Each guest connection gets its own upstream connection to the forward. The bytes sent
    # upstream since the last answer byte ("pending": e.g. a held GET /invocation/next) are kept,
    # so after a snapshot restore (the upstream connections belonged to the VM the snapshot was
    # taken from) reconnect() opens new upstreams and replays them: the runtime never notices.
    async def forward(self, reader, writer):
        conn = {"pending": bytearray(), "up": None}
        try:
            conn["up"] = await asyncio.open_connection(*FORWARD)
        except OSError:
            writer.close()
            return
        self.conns.add(id(conn))
        self.conn_objs[id(conn)] = conn

        async def up():
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    conn["pending"] += data
                    if self.watch_next and data.startswith(b"GET ") and b"/invocation/next" in data[:256]:
                        # A restored clone asks for its second event: its first invocation is
                        # done, the host may record the page-access log now.
                        self.watch_next = False
                        self.send({"t": "next"})
                    try:
                        conn["up"][1].write(data)
                    except (OSError, RuntimeError):
                        pass
            except OSError:
                pass
            conn["done"] = True
            try:
                conn["up"][1].close()
            except OSError:
                pass

        async def down():
            while True:
                r = conn["up"][0]
                try:
                    data = await r.read(65536)
                except OSError:
                    data = b""
                if data and conn.pop("mark", False):
                    # The first answer after a restore tells the runtime it is a clone: it
                    # reseeds its own generators (Python's random, V8's Math.random, ...).
                    end = data.find(b"\r\n")
                    if data.startswith(b"HTTP/") and end > 0:
                        data = data[: end + 2] + RESTORED_HEADER + data[end + 2 :]
                if data:
                    conn["pending"].clear()
                    writer.write(data)
                    try:
                        await writer.drain()
                    except OSError:
                        break
                    continue
                if conn["up"][0] is not r and not conn.get("done"):
                    continue  # replaced by reconnect(): read from the new upstream
                break
            try:
                writer.close()
            except OSError:
                pass

        try:
            await asyncio.gather(up(), down())
        finally:
            self.conn_objs.pop(id(conn), None)

    async def reconnect(self):
        for conn in list(self.conn_objs.values()):
            old = conn["up"]
            try:
                conn["up"] = await asyncio.open_connection(*FORWARD)
                conn["mark"] = True
                if conn["pending"]:
                    conn["up"][1].write(bytes(conn["pending"]))
            except OSError:
                pass
            try:
                old[1].close()
            except OSError:
                pass

    async def restored(self, m):
        self.reseed(base64.b64decode(m["seed"]))
        self.watch_next = True
        await self.reconnect()
        self.send({"t": "restored", "id": m.get("id")})


async def main():
    loop = asyncio.get_running_loop()
    agent = Agent(loop)
    os.set_blocking(agent.ctl, False)
    loop.add_signal_handler(signal.SIGCHLD, agent.reap)
    await asyncio.start_server(agent.forward, *RUNTIME_API)
    loop.add_reader(agent.ctl, agent.on_ctl)
    agent.send({"t": "ready"})
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException as e:  # PID 1 must not exit: that panics the guest
        sys.stderr.write(f"kiln-agent: {e!r}\n")
        os.execv("/bin/busybox", ["/bin/busybox", "poweroff", "-f"])
