# The benchmark handler for python3.11: the same contract as ../nodejs/index.mjs.
import random
import string
import time

ENVIRONMENT = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


def handler(event, context):
    ms = event.get("sleepMs", 0) if isinstance(event, dict) else 0
    if ms:
        time.sleep(ms / 1000)
    return {"ok": True, "environment": ENVIRONMENT}
