"""What tracing costs a job: upload → `job_done` latency (as latency.py) on an instance with
traces on (OTEL_EXPORTER_OTLP_ENDPOINT set, a sampler that samples nothing of its own), in blocks
that alternate between uploads that bring a sampled `traceparent` (every span recorded and
exported: fcgi-app's, the runner's six, the gateway's) and uploads that bring none (spans not
recorded). oteltap receives the spans, as in test_traces.py; the count received is checked.

    bench/traces.py [--jobs 300] [--smoke]

bench/run starts its instance with traces off for latency.py, then restarts it with them on for
this one: the three figures side by side say what the SDK costs idle and exporting.
"""
import argparse
import secrets
from urllib.parse import urlparse

from common import ENV, machine, percentile, start_runner, stop, upload_to_done
from test_traces import Receiver

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=300)
ap.add_argument("--blocks", type=int, default=6)
ap.add_argument("--smoke", action="store_true", help="few jobs, checks the path works (CI)")
args = ap.parse_args()
if args.smoke:
    args.jobs, args.blocks = 20, 2

endpoint = ENV.get("OTEL_EXPORTER_OTLP_ENDPOINT")
assert endpoint, "start the instance with OTEL_EXPORTER_OTLP_ENDPOINT set (bench/run does)"
receiver = Receiver(urlparse(endpoint).port)
runners = [start_runner("--budget", "900") for _ in range(2)]
per_block = max(1, args.jobs // args.blocks)
samples = {"untraced": [], "traced": []}
traces = []


def traced(i):
    t = secrets.token_hex(16)
    traces.append(t)
    return {"traceparent": f"00-{t}-{secrets.token_hex(8)}-01"}


try:
    for b in range(args.blocks):
        samples["untraced"] += upload_to_done(per_block, warmup=2)
        samples["traced"] += upload_to_done(per_block, warmup=2, headers=traced)
    # The last traced jobs' spans arrived: the request's, the attempt and its steps, the gateway's.
    for t in traces[-5:]:
        receiver.trace(t, lambda s: {"POST /api/jobs", "job", "finish"} <= {x["name"] for x in s}
                       and any(x["attributes"].get("docflow.event") == "job_done" for x in s))
finally:
    for r in runners:
        stop(r)
with receiver.lock:
    received = len(receiver.spans)
receiver.stop()

print(f"\nupload → job_done with traces on, {machine()}, {len(samples['traced'])} jobs each, alternating blocks")
print(f"{'':>24} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
for name in ("untraced", "traced"):
    s = samples[name]
    print(f"{name:>24} {percentile(s, 50):8.2f} {percentile(s, 90):8.2f} {percentile(s, 99):8.2f}")
ratio = percentile(samples["traced"], 50) / percentile(samples["untraced"], 50)
print(f"traced / untraced p50: {ratio:.2f}×; spans received: {received} ({received / max(1, len(traces)):.1f} per traced job)")
