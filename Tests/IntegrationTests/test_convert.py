"""`POST /api/convert` (issue 17): one request for scripts, through the same queue and runners —
the output itself when the job is done in time, 422 with the reason when it fails, 202 with the
job when it is not done within `wait`."""
import json
import os
import time

from conftest import BASE, Client


def convert(client, name, data, to, **params):
    return client.http.post(f"{BASE}/api/convert", params=params, files={"file": (name, data)}, data={"to": to}, timeout=90)


def test_the_answer_is_the_output(runner, client):
    t0 = time.time()
    r = convert(client, "notes.md", b"# Notes\n\nSynchronous.\n", "html")
    assert r.status_code == 200, r.text
    assert time.time() - t0 < 10
    assert "<h1>Notes</h1>" in r.text and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="notes.html"')
    job_id = r.headers["Docflow-Job"]
    # A new client's cookie comes with the output, and the job is there as any other.
    assert client.client_id and client.job(job_id)["status"] == "DONE"
    # Raw bodies as well, and a second request of the same client.
    raw = client.http.post(f"{BASE}/api/convert", params={"filename": "t.csv", "to": "json"}, data=b"a,b\n1,2\n", timeout=90)
    assert raw.status_code == 200 and json.loads(raw.text) == [{"a": 1, "b": 2}]


def test_a_failed_conversion_is_422_with_its_reason(runner, client):
    r = convert(client, "bad.csv", b'a,b\n1,"open\n', "json")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "conversion_failed" and "quote" in err["message"].lower()
    assert client.job(r.headers["Docflow-Job"])["status"] == "FAILED"


def test_a_job_not_done_in_time_is_202_with_the_job(runner, client):
    t0 = time.time()
    r = client.http.post(f"{BASE}/api/convert", params={"wait": "1"}, files={"file": ("slow.md", b"# slow\n")},
                         data={"to": "html", "options": '{"debug_sleep_ms": 3000}'}, timeout=90)
    assert r.status_code == 202, r.text
    assert 0.9 < time.time() - t0 < 5
    job = r.json()
    assert job["status"] in ("PENDING", "PROCESSING") and r.headers["Docflow-Job"] == job["id"]
    assert client.wait_status(job["id"])["status"] == "DONE"


def test_bad_requests_are_refused_before_any_job(client):
    for wait in ("-1", "61", "soon", "nan"):
        r = client.http.post(f"{BASE}/api/convert", params={"wait": wait}, files={"file": ("a.md", b"# a\n")},
                             data={"to": "html"}, timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_wait", (wait, r.text)
    r = convert(client, "a.exe", b"MZ\x90\x00", "html")
    assert r.status_code == 415
    assert client.client_id is None  # nothing was kept, no client made


def test_waits_hold_at_most_half_the_threads(runner):
    """Past the limit (half of fcgi-app's 8 threads), an answer is 202 at once instead of a wait:
    the API stays answerable while scripts wait."""
    import threading
    clients = [Client() for _ in range(6)]
    answers = []

    def slow(c):
        r = c.http.post(f"{BASE}/api/convert", params={"wait": "6"}, files={"file": ("s.md", b"# s\n")},
                        data={"to": "html", "options": '{"debug_sleep_ms": 4000}'}, timeout=90)
        answers.append((r.status_code, time.time(), c, r.headers.get("Docflow-Job")))

    t0 = time.time()
    threads = [threading.Thread(target=slow, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(1)
    assert Client().get("/api/health").status_code == 200  # answered while they wait
    for t in threads:
        t.join(60)
    quick = [code for code, at, _, _ in answers if at - t0 < 2]
    # The sleeping jobs still queued are canceled: later tests do not wait behind them.
    for code, _, c, job_id in answers:
        if code == 202:
            c.request("POST", f"/api/jobs/{job_id}/cancel")
    assert len(answers) == 6 and quick and set(quick) == {202}, [(code, round(at - t0, 1)) for code, at, _, _ in answers]


def test_several_outputs_as_one_zip(runner, client):
    """GET /api/jobs/archive: the outputs under their download names, read back by Python's
    zipfile and Info-ZIP's `unzip -t` (the reference readers), every CRC checked."""
    import io
    import subprocess
    import zipfile
    a = client.submit("Résumé.md", b"# R\n", "html")
    b = client.submit("data.csv", b"x,y\n1,2\n", "json")
    c = client.submit("Résumé.md", b"# R2\n", "html")  # the same name again
    bad = client.submit("bad.csv", b'a,b\n1,"open\n', "json")
    outputs = {}
    for j in (a, b, c, bad):
        done = client.wait_status(j["id"])
        if done["status"] == "DONE":
            outputs[j["id"]] = client.get(done["download_url"]).content
    r = client.get("/api/jobs/archive")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip", r.text[:200]
    assert 'filename="docflow-outputs.zip"' in r.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.testzip() is None
    assert z.namelist() == ["Résumé.html", "data.json", "Résumé (2).html"]
    assert [z.read(n) for n in z.namelist()] == [outputs[a["id"]], outputs[b["id"]], outputs[c["id"]]]
    path = f"/tmp/docflow-archive-{os.getpid()}.zip"
    with open(path, "wb") as f:
        f.write(r.content)
    try:
        check = subprocess.run(["unzip", "-t", path], capture_output=True, text=True)
        assert check.returncode == 0 and "No errors detected" in check.stdout, check.stdout + check.stderr
    finally:
        os.unlink(path)

    picked = client.get(f"/api/jobs/archive?ids={b['id']}")
    assert zipfile.ZipFile(io.BytesIO(picked.content)).namelist() == ["data.json"]
    r = client.get(f"/api/jobs/archive?ids={b['id']},{bad['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready"
    for ids in ("nope", "", ",".join([b["id"]] * 201)):
        r = client.get(f"/api/jobs/archive?ids={ids}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_ids", ids
    assert Client().get(f"/api/jobs/archive?ids={b['id']}").status_code == 404  # another client's
    assert Client().get("/api/jobs/archive").status_code == 404  # no client: nothing to pack
