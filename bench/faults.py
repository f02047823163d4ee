"""Latency under the faults a deployment lives with: steady uploads for several cron periods,
runners started the way cron starts them (DOCFLOW_RUNNER_SLOTS of them at every period
boundary, each working for its budget and then handing its slot on), and one PostgreSQL restart
in the middle. Latency is upload → job done, from the database's own clocks (`created_at` when
the upload's job row is inserted, `processed_at` when it is marked done), so a restart that drops
the WebSockets does not lose samples.

    bench/faults.py [--seconds 180] [--period 60] [--restart-at 90] [--rate 10] [--compare] [--smoke]

--compare runs the same load again with handoffs off (DOCFLOW_RUNNER_HANDOFF_SECONDS=0: a runner
exits when its budget is spent, as before), which shows the gap at every period boundary.
Needs a running instance (DOCFLOW_ENV_FILE); bench/run starts one with the rate limit lifted.
"""
import argparse
import os
import subprocess
import threading
import time

from common import ENV, Client, machine, percentile, psql, start_runner, stop

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=180)
ap.add_argument("--period", type=float, default=60, help="cron's period (a minute)")
ap.add_argument("--restart-at", type=float, default=90)
ap.add_argument("--rate", type=float, default=10, help="uploads per second")
ap.add_argument("--slots", type=int, default=2)
ap.add_argument("--compare", action="store_true")
ap.add_argument("--smoke", action="store_true", help="30 s, 10 s periods (CI)")
args = ap.parse_args()
if args.smoke:
    args.seconds, args.period, args.restart_at = 30, 10, 15
VAR = ENV["DOCFLOW_VAR"]


def restart_postgres():
    pg_bin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    subprocess.run(["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{pg_bin}/bin/pg_ctl", "-D", f"{VAR}/data",
                    "-w", "-m", "fast", "-l", f"{VAR}/data/server.log", "restart"], check=True, capture_output=True)


def run(handoff):
    env = {"DOCFLOW_RUNNER_SLOTS": str(args.slots), "DOCFLOW_RUNNER_BUDGET_SECONDS": str(args.period - 2),
           "DOCFLOW_RUNNER_HANDOFF_SECONDS": str(handoff)}
    runners, jobs, stop_all = [], [], threading.Event()
    owner = Client()
    owner.submit("warm.md", b"# warm\n", "html")
    cookie = owner.client_id

    def cron():
        # Like cron: SLOTS runners now and at every period boundary; each takes a slot, becomes a
        # successor, or exits at once.
        nxt = time.time()
        while not stop_all.is_set():
            for _ in range(args.slots):
                runners.append(start_runner(env=env))
            nxt += args.period
            stop_all.wait(max(0, nxt - time.time()))

    def uploads():
        body = b"# Faults\n\nA *small* Markdown file.\n"
        t_next = time.time()
        while not stop_all.is_set():
            c = Client()  # its own address: never rate limited; the same client through the cookie
            c.http.cookies.set("client_id", cookie)
            try:
                r = c.upload("f.md", body, "html")
                if r.status_code == 201:
                    jobs.append(r.json()["id"])
            except Exception:
                pass  # the database is restarting: this upload is refused (503) and not counted
            t_next += 1 / args.rate
            time.sleep(max(0, t_next - time.time()))

    threads = [threading.Thread(target=cron), threading.Thread(target=uploads)]
    t0 = time.time()
    for t in threads:
        t.start()
    restarted_at = None
    while time.time() - t0 < args.seconds:
        if restarted_at is None and time.time() - t0 >= args.restart_at:
            restart_postgres()
            restarted_at = time.time() - t0
        time.sleep(0.1)
    stop_all.set()
    for t in threads:
        t.join()
    deadline = time.time() + 3 * args.period
    ids = ",".join(f"'{j}'" for j in jobs)
    while psql(f"SELECT count(*) FROM jobs WHERE id IN ({ids}) AND status IN ('PENDING', 'PROCESSING')") != "0":
        assert time.time() < deadline, "jobs left undone"
        time.sleep(0.5)
    alive = sum(1 for r in runners if r.poll() is None)
    for r in runners:
        stop(r)
    rows = psql(f"""SELECT extract(epoch FROM created_at)::float8, extract(epoch FROM processed_at - created_at) * 1000, status
                    FROM jobs WHERE id IN ({ids})""").splitlines()
    samples = [(float(a), float(b), s) for a, b, s in (r.split("|") for r in rows)]
    lat = [b for _, b, _ in samples]
    failed = sum(1 for *_, s in samples if s != "DONE")
    # Jobs uploaded within 3 s of a period boundary (cron starting runners, old ones leaving).
    near = [b for a, b, _ in samples if min((a - t0) % args.period, args.period - (a - t0) % args.period) < 3]
    after = [b for a, b, _ in samples if restarted_at is not None and 0 <= a - t0 - restarted_at < 10]
    psql(f"DELETE FROM clients WHERE id = '{cookie}'")
    return dict(n=len(lat), failed=failed, p50=percentile(lat, 50), p99=percentile(lat, 99), max=max(lat),
                near_p99=percentile(near, 99), near_max=max(near) if near else float("nan"),
                after_max=max(after) if after else float("nan"), slow=sum(1 for b in lat if b > 2000),
                restarted_at=restarted_at, runners_alive_at_end=alive)


modes = [("handoff on (this build)", 150)] + ([("handoff off (before: exit at the budget)", 0)] if args.compare else [])
print(f"faults: {args.seconds:.0f} s of {args.rate:.0f} uploads/s, cron period {args.period:.0f} s, {args.slots} slots, "
      f"PostgreSQL restarted at {args.restart_at:.0f} s; {machine()}")
results = []
for label, handoff in modes:
    r = run(handoff)
    results.append((label, r))
    print(f"  {label}: {r['n']} jobs, {r['failed']} not done; upload → done p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
          f"max {r['max']:.0f} ms; within 3 s of a period boundary p99 {r['near_p99']:.1f} ms, max {r['near_max']:.0f} ms; "
          f"10 s after the restart max {r['after_max']:.0f} ms; {r['slow']} jobs over 2 s")
if len(results) == 2:
    on, off = results[0][1], results[1][1]
    print(f"  ratio (off / on): p99 {off['p99'] / on['p99']:.1f}×, boundary max {off['near_max'] / on['near_max']:.1f}×")
on = results[0][1]
# No job waited for the next cron period, restart included.
assert on["failed"] == 0 and on["max"] < args.period * 1000 / 2, on
