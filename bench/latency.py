"""Upload-to-job_done latency: a small Markdown file is uploaded through nginx and the clock
stops when `job_done` for that job arrives on the WebSocket. Runners are the real binaries,
waiting on LISTEN as cron would leave them.

    bench/latency.py [--jobs 200] [--smoke]

Needs a running instance (DOCFLOW_ENV_FILE); bench/run starts one with the rate limit lifted.
With the rate limit in place each upload comes from a fresh loopback address.
"""
import argparse
import json
import statistics
import time

from common import Client, machine, percentile, start_runner, stop

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=200)
ap.add_argument("--smoke", action="store_true", help="few jobs, checks the path works (CI)")
args = ap.parse_args()

runners = [start_runner("--budget", "600") for _ in range(2)]
try:
    owner = Client()
    first = owner.upload("warm.md", b"# warm\n", "html")
    assert first.status_code == 201, first.text
    cookie = owner.client_id
    ws = owner.websocket()
    body = b"# Latency\n\nA *small* Markdown file with a [link](https://example.org).\n"
    samples = []
    for i in range(args.jobs + 5):
        c = Client()  # own address: never rate limited; same client through the cookie
        c.http.cookies.set("client_id", cookie)
        t0 = time.perf_counter()
        r = c.upload(f"doc{i}.md", body, "html")
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        while True:
            event = json.loads(ws.recv())
            if event.get("job", {}).get("id") == job_id and event["type"] in ("job_done", "job_failed"):
                assert event["type"] == "job_done", event
                break
        if i >= 5:  # warm-up excluded
            samples.append((time.perf_counter() - t0) * 1000)
    ws.close()
finally:
    for r in runners:
        stop(r)

p50, p99 = percentile(samples, 50), percentile(samples, 99)
print(f"upload → job_done over WebSocket, {len(samples)} jobs, {machine()}:")
print(f"  p50 {p50:.2f} ms   p90 {percentile(samples, 90):.2f} ms   p99 {p99:.2f} ms   "
      f"mean {statistics.mean(samples):.2f} ms   max {max(samples):.2f} ms")
print(f"  target p50 < 20 ms: {'met' if p50 < 20 else 'NOT met'}")
if args.smoke:
    assert len(samples) == args.jobs
