"""What the conversion sandbox costs: the same work with converters under bubblewrap
(DOCFLOW_SANDBOX=bwrap, the default) and as plain child processes (DOCFLOW_SANDBOX=off).

    bench/sandbox.py [--jobs 200] [--drain 2000] [--rows 1000000] [--smoke]

1. upload → job_done p50/p99 of a small Markdown file (2 runners waiting, as latency.py);
2. queue drain: jobs/s of 2 runners working through N tiny jobs of 8 clients (a converter serves
   one client only, so client changes cost a new process);
3. one CSV → Parquet job of a large table through a runner: conversion time (started → processed)
   and the converter's peak resident memory (VmHWM, sampled from /proc).
Needs a running instance (DOCFLOW_ENV_FILE); bench/run starts one.
"""
import argparse
import glob
import os
import random
import sys
import time
import uuid

from common import ENV, machine, percentile, psql, start_runner, stop, upload_to_done

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "IntegrationTests"))
from test_queue import insert_jobs  # noqa: E402
from conftest import SERVICE_UID, STORAGE  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=200)
ap.add_argument("--drain", type=int, default=2000)
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--smoke", action="store_true", help="few jobs, a small table (CI)")
args = ap.parse_args()
if args.smoke:
    args.jobs, args.drain, args.rows = 30, 200, 20_000


def latency(mode):
    runners = [start_runner("--budget", "600", env={"DOCFLOW_SANDBOX": mode}) for _ in range(2)]
    try:
        time.sleep(0.5)  # the runners' first converters start
        return upload_to_done(args.jobs)
    finally:
        for r in runners:
            stop(r)


def drain(mode):
    clients = [str(uuid.uuid4()) for _ in range(8)]
    for c in clients:
        insert_jobs(c, args.drain // len(clients))
    t0 = time.perf_counter()
    procs = [start_runner("--drain", "--budget", "600", env={"DOCFLOW_SANDBOX": mode}) for _ in range(2)]
    ids = ",".join(f"'{c}'" for c in clients)
    while psql(f"SELECT count(*) FROM jobs WHERE client_id IN ({ids}) AND status <> 'DONE'") != "0":
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.wait()
    for c in clients:
        psql(f"DELETE FROM clients WHERE id = '{c}'")
    return args.drain / elapsed


def write_csv(path, rows):
    rnd = random.Random(20261202)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640), "w") as f:
        f.write("id,name,price,qty,ok,day,at,note\n")
        for i in range(rows):
            f.write(f"{i},item {rnd.randrange(10_000)},{rnd.random() * 1000:.2f},{rnd.randrange(100)},"
                    f"{'true' if i % 3 else 'false'},2026-{1 + i % 12:02d}-{1 + i % 28:02d},"
                    f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00,\"note, {i}\"\n")
    os.chown(path, SERVICE_UID, -1)


def peak_of_workers(pids_before):
    best = 0
    for status in glob.glob("/proc/[0-9]*/status"):
        pid = status.split("/")[2]
        if pid in pids_before:
            continue
        try:
            text = open(status).read()
        except OSError:
            continue
        if "Name:\tconvert-worker" in text:
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]) // 1024)
    return best


def big_table(mode):
    client = str(uuid.uuid4())
    d = os.path.join(STORAGE, "input", client)
    os.makedirs(d, mode=0o750, exist_ok=True)
    os.chown(d, SERVICE_UID, -1)
    job = str(uuid.uuid4())
    path = os.path.join(d, f"{job}.csv")
    write_csv(path, args.rows)
    size = os.path.getsize(path)
    psql(f"INSERT INTO clients (id, expires_at, bytes_limit) VALUES ('{client}', now() + interval '1 day', 1000000000)")
    before = {p.split("/")[2] for p in glob.glob("/proc/[0-9]*")}
    psql(f"""INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256,
                               output_format, expires_at)
             VALUES ('{job}', '{client}', 't.csv', 'csv', 'input/{client}/{job}.csv', {size}, repeat('0', 64),
                     'parquet', now() + interval '1 day')""")
    p = start_runner("--drain", "--budget", "600", env={"DOCFLOW_SANDBOX": mode})
    peak = 0
    while p.poll() is None:
        peak = max(peak, peak_of_workers(before))
        time.sleep(0.02)
    row = psql(f"SELECT status, extract(epoch FROM processed_at - started_at) FROM jobs WHERE id = '{job}'").split("|")
    psql(f"DELETE FROM clients WHERE id = '{client}'")
    assert row[0] == "DONE", row
    return float(row[1]), peak, size


results = {}
for mode in ("off", "bwrap"):
    samples = latency(mode)
    rate = drain(mode)
    seconds, peak, size = big_table(mode)
    results[mode] = (percentile(samples, 50), percentile(samples, 99), rate, seconds, peak)

print(f"conversion sandbox cost, {machine()} (off = plain child process, bwrap = bubblewrap sandbox):")
print(f"  {'':34} {'off':>10} {'bwrap':>10} {'bwrap/off':>10}")
labels = [("upload → job_done p50 (ms)", 0), ("upload → job_done p99 (ms)", 1), ("drain, 2 runners (jobs/s)", 2),
          (f"CSV → Parquet {args.rows:,} rows ({size / 1e6:.0f} MB): s", 3), ("  converter peak memory (MiB)", 4)]
for label, i in labels:
    off, on = results["off"][i], results["bwrap"][i]
    print(f"  {label:34} {off:10.2f} {on:10.2f} {on / off if off else float('nan'):10.2f}")
print(f"  target p50 < 20 ms with the sandbox: {'met' if results['bwrap'][0] < 20 else 'NOT met'}")
if args.smoke:
    assert results["bwrap"][2] > 0
