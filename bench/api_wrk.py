"""API throughput: GET /api/jobs/{id} through nginx → FastCGI → PostgreSQL with wrk, beside nginx
serving a static file of the UI (the ceiling any FastCGI answer stays under) on the same nginx.

    bench/api_wrk.py [--seconds 10] [--connections 32]

Needs an instance with the rate limit lifted (bench/run starts one; DOCFLOW_NO_RATE_LIMIT=1).
"""
import argparse
import re
import subprocess

from common import BASE, Client, machine

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--connections", type=int, default=32)
args = ap.parse_args()

c = Client()
r = c.upload("wrk.md", b"# wrk\n", "html")
assert r.status_code == 201, r.text
job_id = r.json()["id"]
cookie = f"client_id={c.client_id}"


def wrk(url, headers=()):
    cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0


api = wrk(f"{BASE}/api/jobs/{job_id}", [f"Cookie: {cookie}"])
static = wrk(f"{BASE}/index.html")
print(f"wrk, {args.connections} connections, {args.seconds} s, {machine()} (wrk shares the cores):")
print(f"  GET /api/jobs/{{id}} (nginx → fcgi-app → PostgreSQL) {api[0]:9.0f} req/s  p50 {api[1]:>8}  p99 {api[2]:>8}  non-2xx {api[3]}")
print(f"  GET /index.html (nginx static, the ceiling)          {static[0]:9.0f} req/s  p50 {static[1]:>8}  p99 {static[2]:>8}")
print(f"  API / static: {api[0] / static[0]:.2f}")
assert api[3] == 0, "errors under load"
