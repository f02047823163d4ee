"""Helpers shared by the benchmarks: the instance's settings, clients from their own loopback
addresses, percentiles."""
import os
import subprocess
import sys

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
