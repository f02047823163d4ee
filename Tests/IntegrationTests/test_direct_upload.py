"""Direct upload (POST /api/uploads → the file straight to storage → POST /api/uploads/{id}/jobs),
on whichever backend the instance runs: scripts/test runs this module on the local folder (nginx
writes the body itself) and again on SeaweedFS (an S3 POST policy proxied by nginx)."""
import hashlib
import json
import uuid

import pytest

from conftest import BASE, ENV, S3, Client, StoreView, psql, run_janitor

MD = b"# Direct\n\nStraight to storage, *never* through the app.\n\n" + b"Words and more words. " * 200


@pytest.fixture(scope="module")
def store():
    return StoreView()


def slot(client, name="d.md", size=len(MD), **extra):
    r = client.request("POST", "/api/uploads", json={"filename": name, "size": size, **extra})
    return r


def send(client, s, data, **kw):
    """Sends the file the way the slot says (PUT raw on the local backend, a POST form on S3)."""
    if s["method"] == "PUT":
        return client.http.put(f"{BASE}{s['url']}", data=data, timeout=60, **kw)
    assert s["method"] == "POST" and s["file_field"] == "file"
    return client.http.post(f"{BASE}{s['url']}", data=s["fields"], files={"file": ("f", data)}, timeout=60, **kw)


def test_slot_describes_how_to_send_the_file(client):
    r = slot(client, "report.md", len(MD), content_type="text/markdown")
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["status"] == "RESERVED" and s["size"] == s["max_bytes"] == len(MD) and s["filename"] == "report.md"
    assert r.headers["Location"] == f"/api/uploads/{s['upload_id']}" and "client_id=" in r.headers["Set-Cookie"]
    assert s["jobs_url"] == f"/api/uploads/{s['upload_id']}/jobs"
    if S3:
        assert s["method"] == "POST" and s["url"] == f"/store/s3/{s['upload_id']}"
        assert s["fields"]["key"] == f"input/{client.client_id}/{s['upload_id']}.md"
        assert {"policy", "x-amz-signature", "x-amz-credential", "Content-Type"} <= set(s["fields"])
        # The policy holds this key and exactly this size, for an hour; no secret is in the answer.
        import base64
        policy = json.loads(base64.b64decode(s["fields"]["policy"]))
        assert ["content-length-range", len(MD), len(MD)] in policy["conditions"]
        creds = open(ENV["DOCFLOW_S3_CREDENTIALS_FILE"]).read()
        secret = [l.split(" = ")[1] for l in creds.splitlines() if l.startswith("secret_access_key")][0]
        assert secret not in r.text
    else:
        assert s["method"] == "PUT" and s["url"].startswith(f"/store/local/{s['upload_id']}?token=") and s["fields"] == {}
    assert client.get("/api/usage").json()["bytes_used"] == len(MD)  # reserved at once


def test_direct_upload_converts_to_several_targets(runner, client, store):
    digest = hashlib.sha256(MD).hexdigest()
    s = slot(client, "Notes.md", sha256=digest.upper()).json()
    r = send(client, s, MD)
    assert r.status_code in (200, 201, 204), r.text
    key = f"input/{client.client_id}/{s['upload_id']}.md"
    jobs = []
    for to in ("html", "txt"):
        r = client.request("POST", s["jobs_url"], json={"to": to, "priority": 7})
        assert r.status_code == 201, r.text
        j = r.json()
        assert j["upload_id"] == s["upload_id"] and j["input_sha256"] == digest and j["priority"] == 7
        jobs.append(client.wait_status(j["id"]))
    assert [j["status"] for j in jobs] == ["DONE", "DONE"], jobs
    assert store.get(key) == MD
    html = client.get(jobs[0]["download_url"])
    assert html.status_code == 200 and b"<em>never</em>" in html.content
    assert "Notes.html" in html.headers["Content-Disposition"]
    assert b"Direct" in client.get(jobs[1]["download_url"]).content
    # The input is charged once, with the upload; each output with its job.
    used = client.get("/api/usage").json()["bytes_used"]
    assert used == len(MD) + jobs[0]["output_bytes"] + jobs[1]["output_bytes"]
    # Deleting a job leaves the upload's file for the others; deleting the upload frees it.
    assert client.request("DELETE", f"/api/jobs/{jobs[0]['id']}").status_code == 200
    assert store.exists(key)
    assert client.request("DELETE", f"/api/uploads/{s['upload_id']}").status_code == 200
    assert not store.exists(key)
    assert client.get("/api/usage").json()["bytes_used"] == jobs[1]["output_bytes"]
    assert client.get(f"/api/uploads/{s['upload_id']}").status_code == 404


def test_refusals_are_json_with_codes(client):
    def code(r):
        assert r.headers["Content-Type"].startswith("application/json"), (r.status_code, r.text)
        return r.status_code, r.json()["error"]["code"]

    assert code(slot(client, size=0)) == (400, "empty_file")
    big = slot(client, size=250 * 1024 * 1024 + 1)
    assert code(big) == (413, "too_large") and big.json()["error"]["limit"] == 250 * 1024 * 1024
    assert code(slot(client, "x.exe")) == (415, "unsupported_format")
    assert code(slot(client, sha256="xyz")) == (400, "bad_sha256")
    assert code(client.request("POST", "/api/uploads", data=b"not json")) == (400, "bad_request")
    # Over the quota: 413 naming used and limit; nothing is reserved.
    first = slot(client, size=200 * 1024 * 1024)
    assert first.status_code == 201
    over = slot(client, size=60 * 1024 * 1024)
    assert code(over) == (413, "quota_exceeded")
    assert over.json()["error"]["used"] == 200 * 1024 * 1024 and over.json()["error"]["limit"] == 250 * 1024 * 1024
    assert client.request("DELETE", f"/api/uploads/{first.json()['upload_id']}").status_code == 200
    assert client.get("/api/usage").json()["bytes_used"] == 0


def test_a_slot_takes_one_file_once_and_only_from_its_client(runner, client, store):
    s = slot(client).json()
    other = Client()
    other.upload("warm.md", b"# w\n", "html")  # a client of its own
    # Another client: not its slot (403 before any byte is taken; 404 on the API).
    assert send(other, s, MD).status_code == 403
    assert other.get(f"/api/uploads/{s['upload_id']}").status_code == 404
    assert other.request("POST", s["jobs_url"], json={"to": "html"}).status_code == 404
    # Asking for the job before the file arrived.
    r = client.request("POST", s["jobs_url"], json={"to": "html"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "upload_incomplete"
    assert send(client, s, MD).status_code in (200, 201, 204)
    again = send(client, s, MD)
    assert again.status_code == 409 and again.json()["error"]["code"] == "upload_used"
    if not S3:
        bad = dict(s, url=s["url"].split("?")[0] + "?token=" + "0" * 64)
        assert send(client, bad, MD).status_code == 403
    assert client.wait_status(client.request("POST", s["jobs_url"], json={"to": "html"}).json()["id"])["status"] == "DONE"


def test_a_body_of_another_size_is_refused_and_nothing_is_kept(runner, client, store):
    s = slot(client).json()
    r = send(client, s, MD[:-10])
    assert r.status_code in (400, 403), (r.status_code, r.text)  # nginx's check, or the store's policy
    assert store.keys(f"input/{client.client_id}/") == []
    r = client.request("POST", s["jobs_url"], json={"to": "html"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "upload_incomplete"
    r = send(client, s, MD + b"0123456789")
    assert r.status_code in (400, 403, 413), (r.status_code, r.text)
    assert store.keys(f"input/{client.client_id}/") == []


def test_content_that_is_not_the_named_format_releases_the_upload(client, store):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    s = slot(client, "fake.md", len(png)).json()
    assert send(client, s, png).status_code in (200, 201, 204)
    r = client.request("POST", s["jobs_url"], json={"to": "html"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "content_mismatch", r.text
    assert client.get(f"/api/uploads/{s['upload_id']}").status_code == 404
    assert store.keys(f"input/{client.client_id}/") == []
    assert client.get("/api/usage").json()["bytes_used"] == 0


def test_a_wrong_sha256_fails_the_job_and_frees_the_upload(runner, client, store):
    s = slot(client, sha256=hashlib.sha256(b"another file").hexdigest()).json()
    assert send(client, s, MD).status_code in (200, 201, 204)
    job = client.wait_status(client.request("POST", s["jobs_url"], json={"to": "html"}).json()["id"])
    assert job["status"] == "FAILED" and job["error"]["code"] == "sha256_mismatch", job
    assert "SHA-256" in job["error"]["message"]
    assert store.keys(f"input/{client.client_id}/") == []
    assert client.get("/api/usage").json()["bytes_used"] == 0


def test_expired_slots_refuse_and_the_janitor_releases_them(client, store):
    s = slot(client).json()
    psql(f"UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = '{s['upload_id']}'")
    r = send(client, s, MD)
    assert r.status_code == 410 and r.json()["error"]["code"] == "upload_expired"
    r = client.request("POST", s["jobs_url"], json={"to": "html"})
    assert r.status_code == 410 and r.json()["error"]["code"] == "upload_expired"
    assert client.get("/api/usage").json()["bytes_used"] == len(MD)
    report = run_janitor()
    assert report["uploads_released"] >= 1
    assert client.get(f"/api/uploads/{s['upload_id']}").status_code == 404
    assert client.get("/api/usage").json()["bytes_used"] == 0


@pytest.mark.skipif(not S3, reason="the S3 POST policy")
def test_the_policy_holds_its_key(client, store):
    s = slot(client).json()
    other_key = f"input/{client.client_id}/{uuid.uuid4()}.md"
    r = client.http.post(f"{BASE}{s['url']}", data=dict(s["fields"], key=other_key), files={"file": ("f", MD)}, timeout=60)
    assert r.status_code == 403, r.text
    assert not store.exists(other_key)
