"""Upload-to-job_done latency: a small Markdown file is uploaded through nginx and the clock
stops when `job_done` for that job arrives on the WebSocket. Runners are the real binaries,
waiting on LISTEN as cron would leave them.

    bench/latency.py [--jobs 200] [--smoke]

Needs a running instance (DOCFLOW_ENV_FILE); bench/run starts one with the rate limit lifted.
With the rate limit in place each upload comes from a fresh loopback address.
"""
import argparse
import statistics

from common import machine, percentile, start_runner, stop, upload_to_done

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=200)
ap.add_argument("--smoke", action="store_true", help="few jobs, checks the path works (CI)")
args = ap.parse_args()

runners = [start_runner("--budget", "600") for _ in range(2)]
try:
    samples = upload_to_done(args.jobs)
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
