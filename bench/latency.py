"""Upload-to-job_done latency: a small Markdown file is uploaded through nginx and the clock
stops when `job_done` for that job arrives on the WebSocket. Runners are the real binaries,
waiting on LISTEN as cron would leave them.

    bench/latency.py [--jobs 200] [--smoke]

Needs a running instance (DOCFLOW_ENV_FILE); bench/run starts one with the rate limit lifted.
With the rate limit in place each upload comes from a fresh loopback address.
"""
import argparse
import statistics
import time

from common import ENV, Client, machine, percentile, start_runner, stop, upload_to_done

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=200)
ap.add_argument("--smoke", action="store_true", help="few jobs, checks the path works (CI)")
ap.add_argument("--downloads", type=int, default=100, help="downloads of one small output, timed")
args = ap.parse_args()

runners = [start_runner("--budget", "600") for _ in range(2)]
try:
    samples = upload_to_done(args.jobs)
finally:
    for r in runners:
        stop(r)

# Downloads go through nginx either way: sendfile from /_files/ (local) or the internal /_store/
# proxy of a presigned GET (S3).
c = Client()
job = c.submit("dl.md", b"# Download\n\nA small output.\n", "html")
runner = start_runner("--drain")
done = c.wait_status(job["id"])
stop(runner)
assert done["status"] == "DONE", done
downloads = []
for _ in range(max(args.downloads if not args.smoke else 5, 1)):
    t0 = time.perf_counter()
    r = c.get(done["download_url"])
    assert r.status_code == 200 and len(r.content) == done["output_bytes"]
    downloads.append((time.perf_counter() - t0) * 1000)

p50, p99 = percentile(samples, 50), percentile(samples, 99)
print(f"upload → job_done over WebSocket, {len(samples)} jobs, {machine()}:")
print(f"  p50 {p50:.2f} ms   p90 {percentile(samples, 90):.2f} ms   p99 {p99:.2f} ms   "
      f"mean {statistics.mean(samples):.2f} ms   max {max(samples):.2f} ms")
print(f"  target p50 < 20 ms: {'met' if p50 < 20 else 'NOT met'}")
backend = "S3, nginx proxying a presigned GET" if ENV["DOCFLOW_STORAGE"].startswith("s3://") else "local, nginx sendfile"
print(f"  download of a small output ({backend}): p50 {percentile(downloads, 50):.2f} ms   p90 {percentile(downloads, 90):.2f} ms")
if args.smoke:
    assert len(samples) == args.jobs
