"""Helpers shared by the benchmarks: the instance's settings, clients from their own loopback
addresses, percentiles."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "IntegrationTests"))
os.environ.setdefault("DOCFLOW_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from conftest import BASE, BIN, ENV, PROC_ENV, Client, psql, start_runner, stop  # noqa: E402,F401


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def machine():
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu} cores"


def upload_to_done(jobs, warmup=5, headers=None):
    """Milliseconds from each upload of a small Markdown file through nginx to its `job_done` on the
    WebSocket, one job at a time, the first `warmup` left out. Needs runners waiting. `headers`:
    a function of the upload's number giving its extra request headers."""
    owner = Client()
    first = owner.upload("warm.md", b"# warm\n", "html")
    assert first.status_code == 201, first.text
    cookie = owner.client_id
    ws = owner.websocket()
    body = b"# Latency\n\nA *small* Markdown file with a [link](https://example.org).\n"
    samples = []
    for i in range(jobs + warmup):
        c = Client()  # own address: never rate limited; same client through the cookie
        c.http.cookies.set("client_id", cookie)
        t0 = time.perf_counter()
        r = c.upload(f"doc{i}.md", body, "html", headers=headers(i) if headers else None)
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        while True:
            event = json.loads(ws.recv())
            if event.get("job", {}).get("id") == job_id and event["type"] in ("job_done", "job_failed"):
                assert event["type"] == "job_done", event
                break
        if i >= warmup:
            samples.append((time.perf_counter() - t0) * 1000)
    ws.close()
    return samples
