"""Kiln's exec launcher: the process a pre-initialized sandbox of kind "snapstart" runs.

Some starts cannot happen before the function is known: a SnapStart restore must start Node from
the version's snapshot (`node --snapshot-blob ...`). For those Kiln keeps jails booted with this
launcher instead of a runtime. It asks the Kiln-private GET /kiln/2025-01-01/specialization on
the Runtime API (blocks until Kiln has placed the function's code and snapshot), which answers
{"env": {...}, "argv": [...]}, then changes to LAMBDA_TASK_ROOT and exec()s argv with exactly that
environment: the restored runtime is the same process (pid), started as a fresh spawn would start
it, with nothing of the launcher left (Python's sockets are close-on-exec).

Started as `python3.11 -I -S launch.py` (isolated: no PYTHON* variables, no site): standard library
only, never imports host code.
"""

import http.client
import json
import os
import sys
import time

SPECIALIZATION_PATH = "/kiln/2025-01-01/specialization"


def specialization():
    host, _, port = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001").rpartition(":")
    give_up = time.monotonic() + 2.0
    delay = 0.002
    while True:
        conn = http.client.HTTPConnection(host, int(port))
        try:
            conn.request("GET", SPECIALIZATION_PATH)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError("Kiln specialization answered %d: %r" % (resp.status, body[:200]))
            return json.loads(body)
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            if time.monotonic() > give_up:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        finally:
            conn.close()


def main():
    spec = specialization()
    env, argv = spec["env"], spec["argv"]
    os.chdir(env.get("LAMBDA_TASK_ROOT", "/var/task"))
    sys.stdout.flush()
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
