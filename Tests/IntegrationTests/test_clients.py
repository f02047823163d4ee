"""Clients: quota under parallel uploads, expiry by the janitor, isolation between clients."""
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from conftest import BASE, STORAGE, Client, psql, run_janitor, service_makedirs, service_write, ws_events

LIMIT = 250 * 1024 * 1024


def test_parallel_uploads_near_the_limit_never_exceed_the_quota(client):
    assert client.upload("seed.csv", b"a,b\n1,2\n", "json").status_code == 201
    chunk = 24 * 1024 * 1024
    data = (b"x,y\n" + b"1,2\n" * (chunk // 4))[:chunk]

    def upload(i):
        c = Client()  # own address (rate limit) but the same client through the cookie
        c.http.cookies.set("client_id", client.client_id)
        return c.upload(f"part{i}.csv", data, "json")

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(upload, range(12)))  # 12 × 24 MiB = 288 MiB > 250 MiB
    accepted = [r for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code == 413]
    assert len(accepted) + len(refused) == 12, [r.status_code for r in results]
    assert len(accepted) == 10  # exactly what fits: 10 × 24 MiB + the seed ≤ 250 MiB < 11 × 24 MiB
    for r in refused:
        err = r.json()["error"]
        assert err["code"] == "quota_exceeded" and err["limit"] == LIMIT and err["used"] <= LIMIT
    used = int(psql(f"SELECT bytes_used FROM clients WHERE id = '{client.client_id}'"))
    total = int(psql(f"SELECT sum(input_bytes + coalesce(output_bytes, 0)) FROM jobs WHERE client_id = '{client.client_id}'"))
    assert used == total <= LIMIT
    files = os.listdir(os.path.join(STORAGE, "input", client.client_id))
    assert len(files) == 11  # refused uploads left nothing behind
    assert not os.listdir(os.path.join(STORAGE, "tmp"))
    for r in accepted:  # leave the queue clean for later tests
        client.request("DELETE", f"/api/jobs/{r.json()['id']}")


def test_expired_client_loses_rows_files_and_quota(runner, client):
    job = client.submit("old.md", b"# old\n", "html")
    client.wait_status(job["id"])
    ws = client.websocket()
    cid = client.client_id
    assert os.path.isdir(os.path.join(STORAGE, "input", cid)) and os.path.isdir(os.path.join(STORAGE, "output", cid))
    psql(f"UPDATE clients SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = '{cid}'")
    report = run_janitor()
    assert report["expired_clients"] >= 1
    assert psql(f"SELECT count(*) FROM clients WHERE id = '{cid}'") == "0"
    assert psql(f"SELECT count(*) FROM jobs WHERE client_id = '{cid}'") == "0"
    assert not os.path.exists(os.path.join(STORAGE, "input", cid))
    assert not os.path.exists(os.path.join(STORAGE, "output", cid))
    events = ws_events(ws, lambda e: e["type"] == "job_expired")
    assert events[-1]["job"]["id"] == job["id"]
    # The old cookie now names nobody: 404 for the job, zero usage, and a new upload gets a new id.
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.get("/api/usage").json()["bytes_used"] == 0
    r = client.upload("new.md", b"# new\n", "html")
    assert r.status_code == 201 and client.client_id != cid
    assert run_janitor()["expired_clients"] == 0  # idempotent


def test_janitor_removes_orphans_and_stale_tmp():
    ghost = str(uuid.uuid4())
    d = os.path.join(STORAGE, "input", ghost)
    service_makedirs(d)
    orphan = os.path.join(d, f"{uuid.uuid4()}.md")
    fresh = os.path.join(STORAGE, "tmp", f"{uuid.uuid4()}-upload.part")
    stale = os.path.join(STORAGE, "tmp", f"{uuid.uuid4()}-upload.part")
    for p in (orphan, fresh, stale):
        service_write(p, b"x")
    # The scratch folder of a converter whose runner died (kill -9 leaves it).
    scratch = os.path.join(STORAGE, "scratch", f"sbx-{uuid.uuid4()}")
    service_makedirs(scratch)
    service_write(os.path.join(scratch, "workbook.xlsx"), b"x")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    os.utime(stale, (old, old))
    os.utime(scratch, (old, old))
    report = run_janitor()
    assert not os.path.exists(scratch)
    assert report["orphans_removed"] >= 1 and report["tmp_removed"] >= 1
    assert not os.path.exists(orphan) and not os.path.exists(d)
    assert not os.path.exists(stale)
    assert os.path.exists(fresh)  # may be an upload in flight
    os.unlink(fresh)


def test_another_clients_job_is_404_everywhere_and_its_events_stay_private(runner):
    alice, mallory = Client(), Client()
    alice.upload("a.md", b"# a\n", "html")
    mallory.upload("m.md", b"# m\n", "html")
    ws_alice, ws_mallory = alice.websocket(), mallory.websocket()
    job = alice.submit("secret.md", b"# secret\n", "html")
    ws_events(ws_alice, lambda e: e["job"]["id"] == job["id"] and e["type"] == "job_done")
    jid = job["id"]
    for method, path, kw in [("GET", f"/api/jobs/{jid}", {}), ("GET", f"/api/jobs/{jid}/output", {}),
                             ("DELETE", f"/api/jobs/{jid}", {}), ("POST", f"/api/jobs/{jid}/retry", {}),
                             ("PATCH", f"/api/jobs/{jid}", {"json": {"priority": 9}})]:
        r = mallory.request(method, path, **kw)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (method, path)
    assert jid not in [j["id"] for j in mallory.get("/api/jobs").json()["jobs"]]
    assert alice.get(f"/api/jobs/{jid}").status_code == 200  # still there
    # Mallory's socket saw nothing of Alice's job (a marker job of Mallory's ends the wait).
    marker = mallory.submit("marker.md", b"# marker\n", "html")
    seen = ws_events(ws_mallory, lambda e: e["job"]["id"] == marker["id"] and e["type"] == "job_done")
    assert all(e["job"]["id"] != jid for e in seen)
    assert {e["job"]["id"] for e in seen} <= {marker["id"]} | {j["id"] for j in mallory.get("/api/jobs").json()["jobs"]}


def test_socket_needs_a_client_cookie_and_this_sites_origin(runner):
    """Before: any page could open a socket with no cookie and any Origin (a socket flood needed
    nothing). Now the upgrade is refused (403, JSON) without a client, or from another origin."""
    import websocket
    host, port = BASE.split("//")[1].split(":")
    url = f"ws://{host}:{port}/ws"

    def refused(**kw):
        try:
            websocket.create_connection(url, timeout=10, **kw).close()
        except websocket.WebSocketBadStatusException as e:
            assert e.status_code == 403, e
            body = json.loads(e.resp_body)
            return body["error"]["code"]
        raise AssertionError(f"upgrade accepted with {kw}")

    assert refused() == "no_client"
    assert refused(cookie="client_id=not-a-uuid") == "no_client"
    owner = Client()
    owner.submit("x.md", b"# x\n", "html")
    cookie = f"client_id={owner.client_id}"
    assert refused(cookie=cookie, origin="http://evil.example") == "cross_origin"
    assert refused(cookie=cookie, suppress_origin=True) == "cross_origin"
    ws = websocket.create_connection(url, timeout=10, cookie=cookie)  # same origin, with a client
    assert json.loads(ws.recv()) == {"type": "connected", "client": True}
    ws.close()


def test_a_client_has_at_most_8_sockets(runner):
    import websocket
    owner = Client()
    owner.submit("x.md", b"# x\n", "html")
    socks = [owner.websocket() for _ in range(8)]
    try:
        owner.websocket()
        raise AssertionError("a ninth socket was accepted")
    except websocket.WebSocketBadStatusException as e:
        assert e.status_code == 429 and json.loads(e.resp_body)["error"]["code"] == "rate_limited"
    finally:
        for w in socks:
            w.close()
