"""Queue throughput: runners drain N tiny Markdown → HTML jobs (real conversions, real output
files, every state change notified), beside pgqueuer's own benchmark (drain strategy, no-op jobs)
on the same PostgreSQL cluster with the same settings.

    bench/queue_throughput.py [--jobs 5000] [--runners 2,4] [--pgqueuer PATH-TO-tools/benchmark.py]

pgqueuer's benchmark script comes from its repository (not vendored here); pass its path, or it is
skipped. Its Python packages: pip install "pgqueuer[asyncpg]==1.6.0" typer uvloop tabulate tqdm.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from common import ENV, PROC_ENV, machine, psql, start_runner  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "IntegrationTests"))
from test_queue import insert_jobs  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=5000)
ap.add_argument("--runners", default="2,4")
ap.add_argument("--pgqueuer", help="path to pgqueuer's tools/benchmark.py")
ap.add_argument("--python", default=sys.executable, help="interpreter with pgqueuer installed")
ap.add_argument("--storage", help="storage root for this run (e.g. a tmpfs, to leave the filesystem out)")
args = ap.parse_args()
if args.storage:
    import conftest
    import test_queue
    os.makedirs(args.storage, exist_ok=True)
    conftest.PROC_ENV["DOCFLOW_STORAGE"] = ENV["DOCFLOW_STORAGE"] = test_queue.STORAGE = args.storage
if args.pgqueuer:
    args.pgqueuer = os.path.abspath(args.pgqueuer)
args.python = os.path.abspath(args.python) if os.sep in args.python else args.python

results = []
cleanup = []
for n in [int(x) for x in args.runners.split(",")]:
    client_id = str(uuid.uuid4())
    insert_jobs(client_id, args.jobs)
    t0 = time.perf_counter()
    procs = [start_runner("--drain", "--budget", "600") for _ in range(n)]
    # The clock stops when the last job is done (not when the last runner has noticed).
    while psql(f"SELECT count(*) FROM jobs WHERE client_id = '{client_id}' AND status <> 'DONE'") != "0":
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.wait()
    done = int(psql(f"SELECT count(*) FROM jobs WHERE client_id = '{client_id}' AND status = 'DONE'"))
    assert done == args.jobs, f"only {done} of {args.jobs} done"
    cleanup.append(client_id)  # removed at the end: mass deletes slow ext4's next inode allocations
    results.append((f"docflow job-runner × {n}", args.jobs / elapsed, elapsed))

peer = None
if args.pgqueuer and os.path.exists(args.pgqueuer):
    db = dict(kv.split("=", 1) for kv in ENV["DOCFLOW_DATABASE"].split())
    env = {**os.environ, "PGHOST": db["host"], "PGPORT": db["port"], "PGUSER": db["user"], "PGDATABASE": "pgqueuer_bench"}
    psql("DROP DATABASE IF EXISTS pgqueuer_bench")
    psql("CREATE DATABASE pgqueuer_bench")
    subprocess.run([args.python, "-m", "pgqueuer", "install"], env=env, check=True, capture_output=True)
    out = subprocess.run([args.python, args.pgqueuer, "--strategy", "drain", "--jobs", str(args.jobs)],
                         env=env, capture_output=True, text=True, cwd=os.path.dirname(args.pgqueuer), check=True).stdout
    rate = float(re.search(r"\| Rate\s+\|\s+([\d.]+)", out).group(1))
    elapsed = re.search(r"\| Elapsed Time\s+\|\s+([\d:.]+)", out).group(1)
    peer = rate
    results.append(("pgqueuer 1.6.0 drain (5 dequeue tasks × batch 10, asyncpg)", rate, elapsed))
    psql("DROP DATABASE pgqueuer_bench")

for client_id in cleanup:
    psql(f"DELETE FROM clients WHERE id = '{client_id}'")
    if ENV["DOCFLOW_STORAGE"].startswith("s3://"):
        from conftest import StoreView
        store = StoreView()
        for key in store.keys(f"input/{client_id}/") + store.keys(f"output/{client_id}/"):
            store.delete(key)
    else:
        subprocess.run(["rm", "-rf", f"{ENV['DOCFLOW_STORAGE']}/input/{client_id}", f"{ENV['DOCFLOW_STORAGE']}/output/{client_id}"])

print(f"queue throughput, {args.jobs} jobs, {machine()}, one PostgreSQL cluster (default settings: fsync on, synchronous_commit on),")
print(f"storage {ENV['DOCFLOW_STORAGE']}:")
for name, rate, elapsed in results:
    ratio = f"   {rate / peer:.2f}× pgqueuer" if peer and not name.startswith("pgqueuer") else ""
    print(f"  {name:<62} {rate:8.0f} jobs/s{ratio}")
if not peer:
    print("  pgqueuer: skipped (pass --pgqueuer PATH to its tools/benchmark.py)")
