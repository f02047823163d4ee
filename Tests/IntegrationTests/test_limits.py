"""nginx's limits: 10 r/s per IP with a JSON 429, 250 MB bodies with a JSON 413."""
import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import BASE, Client


def test_burst_past_ten_per_second_gets_json_429():
    c = Client()
    statuses, bodies = [], []
    t0 = time.monotonic()
    for _ in range(60):
        r = c.get("/api/formats")
        statuses.append(r.status_code)
        if r.status_code == 429:
            bodies.append(r)
    elapsed = time.monotonic() - t0
    # A burst of 20 at once, then 10 per second refill during the loop.
    assert 20 <= statuses.count(200) <= 21 + 10 * elapsed, (statuses, elapsed)
    assert statuses.count(429) >= 60 - 21 - 10 * elapsed
    r = bodies[0]
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]["code"] == "rate_limited"
    # Another address is not affected.
    assert Client().get("/api/formats").status_code == 200


def test_oversized_upload_gets_json_413_before_the_body():
    host, port = BASE.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(Client().address, 0))
    conn.putrequest("POST", "/api/jobs?filename=big.csv&to=json")
    conn.putheader("Content-Type", "text/csv")
    conn.putheader("Content-Length", str(251 * 1024 * 1024))
    conn.endheaders()  # no body sent: nginx answers from the header alone
    r = conn.getresponse()
    assert r.status == 413
    assert r.getheader("Content-Type") == "application/json"
    assert b'"too_large"' in r.read()
