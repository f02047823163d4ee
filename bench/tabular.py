"""Tabular conversions side by side: Doc Flow's `docflow convert` against the tools users would
otherwise pick (pyarrow, DuckDB, pandas with xlsxwriter / openpyxl / calamine, python-calamine),
whole processes on the same seeded inputs, best wall time and peak RSS (wait4), ratios printed.

    bench/tabular.py [--rows 1000000,10000] [--runs 3] [--only csv→parquet,...] [--smoke]
    bench/tabular.py --rows 100000,1000000,3000000 --no-peers   # Doc Flow's peak memory by file size
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from documents import run  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PEER = os.path.join(ROOT, "bench", "peers", "tabular_peer.py")
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
         "tau upsilon phi chi psi omega lorem ipsum dolor sit amet consectetur adipiscing elit").split()
CATEGORIES = ["books", "music", "garden", "toys", "tools", "food", "health", "sports"]


def table_csv(path, rows, seed=20261122):
    """8 columns: int, float, string, bool, date, nullable int, long text, category (~100 B/row)."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        f.write("id,price,name,active,day,quantity,comment,category\n")
        for i in range(rows):
            price = f"{rng.uniform(0, 10000):.2f}"
            name = rng.choice(WORDS).title() + " " + rng.choice(WORDS)
            active = "true" if rng.random() < 0.5 else "false"
            day = f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            qty = "" if rng.random() < 0.1 else str(rng.randint(0, 100000))
            comment = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
            if rng.random() < 0.05:
                comment = '"' + comment.replace(" ", ", ", 1) + '"'
            f.write(f"{i},{price},{name},{active},{day},{qty},{comment},{rng.choice(CATEGORIES)}\n")


def available(python, module):
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1000000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--python", default=sys.executable, help="Python with the peers installed")
    ap.add_argument("--docflow", default=os.path.join(ROOT, ".build", "release", "docflow"))
    ap.add_argument("--only", default="")
    ap.add_argument("--smoke", action="store_true", help="10,000 rows, one run (CI)")
    ap.add_argument("--no-peers", action="store_true", help="Doc Flow alone: its time and peak memory at each size")
    a = ap.parse_args()
    if a.smoke:
        a.rows, a.runs = "10000", 1
    py, df = a.python, a.docflow
    have = {m: available(py, m) for m in ("pyarrow", "duckdb", "pandas", "xlsxwriter", "openpyxl", "python_calamine")}
    need = {"pyarrow": ["pyarrow"], "duckdb": ["duckdb"], "pandas": ["pandas"], "pandas+xlsxwriter": ["pandas", "xlsxwriter"],
            "pandas+openpyxl": ["pandas", "openpyxl"], "pandas+calamine": ["pandas", "python_calamine"],
            "python-calamine": ["python_calamine"]}
    pairs = [
        ("csv", "parquet", ["pyarrow", "duckdb"]),
        ("parquet", "csv", ["pyarrow", "duckdb"]),
        ("csv", "xlsx", ["pandas+xlsxwriter", "pandas+openpyxl"]),
        ("xlsx", "csv", ["python-calamine", "pandas+calamine", "pandas+openpyxl"]),
        ("csv", "json", ["pandas", "duckdb"]),
        ("json", "csv", ["pandas", "duckdb"]),
    ]
    only = set(filter(None, a.only.split(",")))
    work = tempfile.mkdtemp(prefix="docflow-bench-tab-")
    summary = []
    alone = []
    try:
        for rows in [int(r) for r in a.rows.split(",")]:
            src = {"csv": os.path.join(work, f"t{rows}.csv")}
            table_csv(src["csv"], rows)
            print(f"\n== {rows:,} rows × 8 columns: CSV {os.path.getsize(src['csv']) / 1e6:.1f} MB; best of {a.runs}; {os.cpu_count()} cores")
            # Inputs in the other formats are made by Doc Flow itself and checked by the test suite.
            for fmt in ("parquet", "xlsx", "json"):
                src[fmt] = os.path.join(work, f"t{rows}.{fmt}")
                subprocess.run([df, "convert", src["csv"], src[fmt]], check=True, capture_output=True)
            for s, d, peers in pairs:
                name = f"{s}→{d}"
                if only and name not in only:
                    continue
                print(f"\n{name}")
                out = os.path.join(work, f"out.{d}")
                best, rss, why = timed([df, "convert", src[s], out], out, a)
                if best is None:
                    sys.exit(f"docflow failed on {name}: {why}")
                print(f"  {'docflow':18} {best:8.3f} s  {rss:7.1f} MiB")
                if a.no_peers:
                    alone.append((rows, name, best, rss))
                    continue
                fastest = None
                for p in peers:
                    if not all(have[m] for m in need[p]):
                        print(f"  {p:18} not installed: skipped")
                        continue
                    pout = os.path.join(work, f"peer.{d}")
                    pbest, prss, pwhy = timed([py, PEER, p, s, d, src[s], pout], pout, a, peer=True)
                    if pbest is None:
                        print(f"  {p:18} {pwhy}")
                        continue
                    fastest = pbest if fastest is None else min(fastest, pbest)
                    speed = f"{pbest / best:5.2f}× {'faster' if pbest >= best else 'as fast (slower)'}"
                    memory = (f"{prss / max(rss, 1):4.1f}× less memory" if prss >= rss
                              else f"{rss / max(prss, 1):4.1f}× MORE memory")
                    print(f"  {p:18} {pbest:8.3f} s  {prss:7.1f} MiB   docflow is {speed}, uses {memory}")
                if fastest is not None:
                    summary.append((rows, name, fastest / best, rss))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if alone:
        print("\nDoc Flow alone: time and peak RSS by input size")
        for rows, name, best, rss in alone:
            print(f"  {rows:>9,} rows  {name:14} {best:7.3f} s  {rss:7.1f} MiB")
    if summary:
        print("\nsummary: docflow time ÷ fastest peer's time (>1 = docflow ahead), docflow peak RSS")
        for rows, name, ratio, rss in summary:
            flag = "" if ratio >= 1 else "   <-- behind"
            print(f"  {rows:>9,} rows  {name:14} {ratio:6.2f}×  {rss:7.1f} MiB{flag}")


def timed(cmd, out, a, peer=False):
    best, rss, why = None, 0.0, None
    for _ in range(a.runs if not peer else max(1, min(a.runs, 2))):
        wall, peak, why = run(cmd, out, a.timeout)
        if wall is None:
            return None, None, why
        best = wall if best is None else min(best, wall)
        rss = max(rss, peak)
    return best, rss, why


if __name__ == "__main__":
    main()
