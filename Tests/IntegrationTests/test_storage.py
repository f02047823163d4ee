"""The storage-facing behaviour, on whichever backend the instance runs (scripts/test runs this
module against the local folder and again against SeaweedFS): what is stored under which key,
downloads (names, Range, ETag, HEAD), deletion, expiry, orphans, quota and a file deleted
behind the service's back."""
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, S3, STORAGE, VAR, WORK, Client, StoreView, psql, quiesce, run_janitor, start_runner, stop

MD = b"# Stored\n\nA paragraph with *emphasis*, long enough to ask for a range of it.\n\n" + b"More text. " * 400


@pytest.fixture(scope="module")
def store():
    return StoreView()


def test_upload_and_output_are_objects_under_uuid_keys(runner, client, store):
    job = client.submit("Notes final.md", MD, "html")
    done = client.wait_status(job["id"])
    assert done["status"] == "DONE", done
    cid = client.client_id
    assert store.keys(f"input/{cid}/") == [f"input/{cid}/{job['id']}.md"]
    assert store.keys(f"output/{cid}/") == [f"output/{cid}/{job['id']}-a1.html"]
    assert store.get(f"input/{cid}/{job['id']}.md") == MD
    body = client.get(done["download_url"])
    assert body.status_code == 200, body.text
    assert body.content == store.get(f"output/{cid}/{job['id']}-a1.html")
    assert len(body.content) == done["output_bytes"]
    assert body.headers["Content-Type"].startswith("text/html")
    assert body.headers["Content-Disposition"].count("filename=") == 1
    assert "filename*=UTF-8''Notes%20final.html" in body.headers["Content-Disposition"]
    assert body.headers["Cache-Control"] == "private, no-store"
    # Nothing of the store shows: no address, no signature, no amz header.
    assert not any(h.lower().startswith("x-amz") for h in body.headers)
    assert "X-Amz" not in str(body.headers) and "Signature" not in str(body.headers)
    assert not os.listdir(os.path.join(WORK, "tmp"))


def test_download_answers_range_etag_and_head(runner, client):
    done = client.wait_status(client.submit("r.md", MD, "html")["id"])
    url = done["download_url"]
    whole = client.get(url)
    etag = whole.headers.get("ETag")
    assert etag, whole.headers
    part = client.get(url, headers={"Range": "bytes=10-29"})
    assert part.status_code == 206 and part.content == whole.content[10:30]
    assert part.headers["Content-Range"] == f"bytes 10-29/{len(whole.content)}"
    tail = client.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == whole.content[-5:]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = client.request("HEAD", url)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) == len(whole.content)
    # Another client cannot reach it, and the internal locations are not reachable from outside.
    assert Client().get(url).status_code == 404
    assert client.get(f"/_store/docflow/output/{client.client_id}/{done['id']}-a1.html").status_code == 404
    assert client.get(f"/_files/output/{client.client_id}/{done['id']}-a1.html").status_code == 404


def test_delete_removes_both_objects_and_frees_quota(runner, client, store):
    done = client.wait_status(client.submit("d.md", MD, "html")["id"])
    cid = client.client_id
    used = client.get("/api/usage").json()["bytes_used"]
    assert used == done["input_bytes"] + done["output_bytes"]
    assert client.request("DELETE", f"/api/jobs/{done['id']}").status_code == 200
    assert store.keys(f"input/{cid}/") == [] and store.keys(f"output/{cid}/") == []
    assert client.get("/api/usage").json()["bytes_used"] == 0


def test_expired_client_loses_every_object(runner, client, store):
    done = client.wait_status(client.submit("e.md", MD, "html")["id"])
    cid = client.client_id
    assert len(store.keys(f"input/{cid}/")) == 1 and len(store.keys(f"output/{cid}/")) == 1
    psql(f"UPDATE clients SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = '{cid}'")
    report = run_janitor()
    assert report["expired_clients"] >= 1
    assert store.keys(f"input/{cid}/") == [] and store.keys(f"output/{cid}/") == []
    assert psql(f"SELECT count(*) FROM clients WHERE id = '{cid}'") == "0"
    assert client.get(done["download_url"]).status_code in (401, 404)


def test_orphans_go_and_referenced_objects_stay(runner, client, store):
    done = client.wait_status(client.submit("o.md", MD, "html")["id"])
    cid = client.client_id
    ghost = str(uuid.uuid4())
    store.put(f"input/{ghost}/{uuid.uuid4()}.md", b"nobody's")
    stray = f"output/{cid}/{uuid.uuid4()}-a1.html"
    store.put(stray, b"no job points here")
    young = run_janitor()  # younger than the minimum age: kept (an upload may be in flight)
    assert store.exists(stray) and store.keys(f"input/{ghost}/")
    report = run_janitor(env={"DOCFLOW_ORPHAN_MIN_AGE_SECONDS": "0"})
    assert report["orphans_removed"] >= 2, (young, report)
    assert not store.exists(stray) and store.keys(f"input/{ghost}/") == []
    assert store.keys(f"input/{cid}/") == [f"input/{cid}/{done['id']}.md"]
    assert store.keys(f"output/{cid}/") == [f"output/{cid}/{done['id']}-a1.html"]
    assert client.get(done["download_url"]).status_code == 200


def test_quota_counts_what_is_stored(runner, client, store):
    jobs = [client.wait_status(client.submit(f"q{i}.md", MD, "html")["id"]) for i in range(3)]
    cid = client.client_id
    stored = sum(len(store.get(k)) for k in store.keys(f"input/{cid}/") + store.keys(f"output/{cid}/"))
    assert client.get("/api/usage").json()["bytes_used"] == stored == sum(j["input_bytes"] + j["output_bytes"] for j in jobs)


def test_input_deleted_behind_our_back_fails_readably(runner, client, store):
    quiesce()
    runner.send_signal(signal.SIGSTOP)  # the job waits until its input is gone
    try:
        job = client.submit("gone.md", MD, "html")
        store.delete(f"input/{client.client_id}/{job['id']}.md")
    finally:
        runner.send_signal(signal.SIGCONT)
    failed = client.wait_status(job["id"])
    assert failed["status"] == "FAILED", failed
    assert failed["error"]["code"] == "input_missing" and "gone" in failed["error"]["message"]
    assert store.keys(f"output/{client.client_id}/") == []


@pytest.mark.skipif(not S3, reason="the S3 backend keeps no object on this host")
def test_s3_backend_keeps_no_object_on_this_host(runner, client):
    assert client.wait_status(client.submit("h.md", MD, "html")["id"])["status"] == "DONE"
    for top in ("input", "output"):
        files = [f for _, _, fs in os.walk(os.path.join(WORK, top)) for f in fs]
        assert files == [], f"{top}/ on the local disk: {files}"
    assert [f for f in os.listdir(os.path.join(WORK, "tmp"))] == []
    assert re.fullmatch(r"s3://[a-z0-9.-]+", STORAGE)


def _seaweedfs(action):
    """Stops the instance's SeaweedFS, or starts it again and waits until it answers (it takes
    seconds to elect itself leader again): scripts/instance stop-storage / start-storage."""
    subprocess.run([os.path.join(ROOT, "scripts", "instance"), f"{action}-storage"], check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(not S3, reason="the object store going away")
def test_store_down_is_503_and_jobs_wait_for_it(runner, client, store):
    quiesce()
    runner.send_signal(signal.SIGSTOP)  # the module's runner sits this one out
    proc = None
    try:
        before = client.submit("waits.md", MD, "html")  # stored; no runner takes it yet
        _seaweedfs("stop")
        try:
            r = client.upload("down.md", MD, "html")
            assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable", r.text
            r = client.request("POST", "/api/uploads", json={"filename": "d.md", "size": 10})
            assert r.status_code == 503 and r.json()["error"]["code"] == "storage_unavailable", r.text
            assert "AKIA" not in r.text and "secret" not in r.text.lower()
            # A runner meets the store down: the attempt is a storage error, retried after the
            # backoff; the runner lives on and takes the job again once the store is back.
            # (SeaweedFS takes ~15 s to elect itself again: attempt 2 may meet it down as well;
            # the backoff, 8 s times the attempt, leaves attempt 3 well after it is back.)
            proc = start_runner("--drain", env={"DOCFLOW_RETRY_BACKOFF_SECONDS": "8"})
            deadline = time.time() + 20
            while time.time() < deadline and client.job(before["id"])["attempt"] < 1:
                time.sleep(0.2)
            job = client.wait_status(before["id"], statuses=("PENDING", "FAILED", "DONE"))
            assert job["status"] == "PENDING" and job["error"]["code"] == "storage", job
            assert "credential" not in json.dumps(job).lower()
        finally:
            _seaweedfs("start")
        done = client.wait_status(before["id"], timeout=60)
        assert done["status"] == "DONE" and done["attempt"] >= 2, done
        assert proc.poll() is None or proc.returncode == 0
    finally:
        runner.send_signal(signal.SIGCONT)
        if proc:
            stop(proc)
    # One output, of the attempt that finished: nothing of the failed attempts is left.
    assert store.keys(f"output/{client.client_id}/") == [f"output/{client.client_id}/{before['id']}-a{done['attempt']}.html"]
    assert client.get(done["download_url"]).status_code == 200


@pytest.mark.skipif(not S3, reason="the S3 credential")
def test_the_secret_is_in_no_log_or_answer(client):
    """After everything above (the store down included): the S3 secret is in no log of any process."""
    creds = open(os.path.join(VAR, "seaweedfs", "credentials")).read()
    secret = [l.split(" = ", 1)[1] for l in creds.splitlines() if l.startswith("secret_access_key")][0]
    assert len(secret) >= 30
    logs = [os.path.join(d, f) for base in (os.path.join(VAR, "log"), os.path.join(VAR, "nginx", "log"))
            for d, _, fs in os.walk(base) for f in fs]
    assert logs
    for path in logs:
        with open(path, "rb") as f:
            assert secret.encode() not in f.read(), path
    assert secret not in client.get("/api/health").text + client.get("/api/formats").text
