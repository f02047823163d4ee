"""Upload through nginx → job_done on the WebSocket → download, and the rest of the job API."""
import json
import os
import re
import subprocess
import time
import uuid

from conftest import BASE, BIN, ROOT, WORK, Client, StoreView, psql, ws_events

FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
MD = open(os.path.join(FIXTURES, "md", "docling__blocks.md"), "rb").read()
IRIS = open(os.path.join(FIXTURES, "csv", "csvkit__iris.csv"), "rb").read()


def cli_convert(src_bytes, src_name, dst_name, tmp_path):
    src = tmp_path / src_name
    src.write_bytes(src_bytes)
    dst = tmp_path / dst_name
    subprocess.run([f"{BIN}/docflow", "convert", str(src), str(dst)], check=True)
    return dst.read_bytes()


def test_markdown_upload_is_announced_and_downloaded(runner, client, tmp_path):
    first = client.upload("warm-up.md", b"# warm up\n", "html")  # gets the cookie
    assert first.status_code == 201
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=86400" in cookie and "Path=/" in cookie
    ws = client.websocket()
    r = client.upload("Résumé final.md", MD, "html")
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "PENDING" and job["input_bytes"] == len(MD)
    assert r.headers["Location"] == f"/api/jobs/{job['id']}"
    events = ws_events(ws, lambda e: e["job"]["id"] == job["id"] and e["type"] in ("job_done", "job_failed"))
    mine = [e["type"] for e in events if e["job"]["id"] == job["id"]]
    assert mine[0] == "job_queued" and "job_processing" in mine and mine[-1] == "job_done"
    done = events[-1]["job"]
    assert done["status"] == "DONE" and done["download_url"] == f"/api/jobs/{job['id']}/output"
    dl = client.get(done["download_url"])
    assert dl.status_code == 200
    assert dl.headers["Content-Type"].startswith("text/html")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20final.html" in dl.headers["Content-Disposition"]
    assert dl.content == cli_convert(MD, "in.md", "out.html", tmp_path)  # same bytes as the CLI
    assert int(dl.headers["Content-Length"]) == done["output_bytes"]
    ws.close()


def test_csv_to_json_typed(runner, client):
    r = client.upload("iris.csv", IRIS, "json")
    assert r.status_code == 201
    job = client.wait_status(r.json()["id"])
    assert job["status"] == "DONE", job
    assert job["metadata"]["rows"] == 150
    rows = client.get(job["download_url"]).json()
    assert len(rows) == 150 and rows[0]["sepal_length"] == 5.1 and rows[0]["species"] == "Iris-setosa"


def test_markdown_to_pdf_job(runner, client, tmp_path):
    job = client.wait_status(client.submit("blocks.md", MD, "pdf", options={"page_size": "letter"})["id"])
    assert job["status"] == "DONE", job
    dl = client.get(job["download_url"])
    assert dl.headers["Content-Type"] == "application/pdf" and dl.content.startswith(b"%PDF-")
    assert "filename*=UTF-8''blocks.pdf" in dl.headers["Content-Disposition"]
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(dl.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Pages:\s+{job['metadata']['page_count']}$", info, re.M) and "612 x 792" in info
    assert job["metadata"]["word_count"] > 10 and job["metadata"]["outline"][0]["level"] == 1
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "my heading" in text


def test_bad_options_are_refused_at_upload_by_name(runner):
    """Options are checked against the reader's and writer's declarations before anything is
    kept: a bad value or a misspelt key is a 400 naming it, with no job, file or client made."""
    c = Client()
    for options, key, allowed in (({"page_size": "a0"}, "page_size", '"a4" or "letter"'),
                                  ({"page_sise": "a4"}, "page_sise", "page_size"),
                                  ({"delimiter": ";"}, "delimiter", "page_size"),  # a CSV reader's option, not Markdown's
                                  ({"font": 3}, "font", '"sans"')):
        r = c.upload("x.md", b"# x\n", "pdf", options=options)
        assert r.status_code == 400, r.text
        err = r.json()["error"]
        assert err["code"] == "bad_options" and key in err["message"] and allowed in err["message"], err
        assert "client_id" not in r.cookies
    # The same options on a conversion that takes them are fine.
    ok = c.submit("x.csv", b"a;b\n1;2\n", "pdf", options={"delimiter": ";", "page_size": "LETTER"})
    assert c.wait_status(ok["id"])["status"] == "DONE"


def test_formats_list_each_conversions_options(client):
    formats = {f["id"]: f for f in client.get("/api/formats").json()["formats"]}
    pdf = {o["name"]: o for o in formats["pdf"]["write_options"]}
    assert pdf["page_size"]["type"] == "choice" and pdf["page_size"]["values"] == ["a4", "letter"] and pdf["page_size"]["default"] == "a4"
    assert [o["name"] for o in formats["csv"]["read_options"]] == ["delimiter", "header", "infer_types", "keep_empty_strings"]
    pairs = {c["to"]: c["options"] for c in formats["csv"]["conversions"]}
    assert pairs["parquet"] == ["delimiter", "header", "infer_types", "keep_empty_strings", "compression", "row_group_rows"]
    assert pairs["json"] == ["delimiter", "header", "infer_types", "keep_empty_strings"]
    assert set(pairs) == set(formats["csv"]["to"])
    assert {c["to"]: c["options"] for c in formats["md"]["conversions"]}["txt"] == []


def test_raw_body_upload_for_scripts(runner, client):
    r = client.http.post(f"{BASE}/api/jobs?filename=notes.md&to=html&priority=9", data=b"# raw\n", timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["priority"] == 9
    assert client.wait_status(r.json()["id"])["status"] == "DONE"


def test_sha256_and_storage_layout(runner, client):
    import hashlib
    r = client.upload("h.md", b"# hash me\n", "html")
    job = r.json()
    assert job["input_sha256"] == hashlib.sha256(b"# hash me\n").hexdigest()
    path = psql(f"SELECT input_path FROM jobs WHERE id = '{job['id']}'")
    assert path == f"input/{client.client_id}/{job['id']}.md"
    assert StoreView().get(path) == b"# hash me\n"


def test_idempotency_key_returns_the_same_job(runner, client):
    client.upload("a.md", b"# a\n", "html")
    key = str(uuid.uuid4())
    r1 = client.upload("b.md", b"# b\n", "html", headers={"Idempotency-Key": key})
    r2 = client.upload("b.md", b"# b\n", "html", headers={"Idempotency-Key": key})
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["id"] == r2.json()["id"]
    assert psql(f"SELECT count(*) FROM jobs WHERE client_id = '{client.client_id}'") == "2"


def test_an_idempotency_key_reused_for_another_request_is_422(runner, client):
    """As Stripe does: the same key with another file, name, target or options is refused, and
    nothing of it is kept; options written in another key order are the same request."""
    client.upload("a.md", b"# a\n", "html")
    key = str(uuid.uuid4())
    first = client.upload("c.csv", b"a;b\n1;2\n", "json", options={"delimiter": ";", "header": True},
                          headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    for job in client.get("/api/jobs").json()["jobs"]:  # done: their outputs charged
        client.wait_status(job["id"])
    used = client.get("/api/usage").json()["bytes_used"]
    same = client.http.post(f"{BASE}/api/jobs", files={"file": ("c.csv", b"a;b\n1;2\n")},
                            data={"to": "json", "options": '{"header": true, "delimiter": ";"}'},
                            headers={"Idempotency-Key": key}, timeout=30)
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    for name, data, to, options in [("c.csv", b"a;b\n1;3\n", "json", {"delimiter": ";", "header": True}),  # another file
                                    ("d.csv", b"a;b\n1;2\n", "json", {"delimiter": ";", "header": True}),  # another name
                                    ("c.csv", b"a;b\n1;2\n", "xlsx", {"delimiter": ";", "header": True}),  # another target
                                    ("c.csv", b"a;b\n1;2\n", "json", {"delimiter": ";"})]:                  # other options
        r = client.upload(name, data, to, options=options, headers={"Idempotency-Key": key})
        assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_conflict", (name, to, r.text)
    assert psql(f"SELECT count(*) FROM jobs WHERE client_id = '{client.client_id}'") == "2"
    assert client.get("/api/usage").json()["bytes_used"] == used


def test_a_retry_takes_new_options_and_priority(runner, client):
    """A job that failed on its options is retried with others (checked as at upload) and runs."""
    data = open(os.path.join(ROOT, "Tests", "Fixtures", "xlsx", "csvkit__dummy.xlsx"), "rb").read()
    job = client.submit("dummy.xlsx", data, "csv", options={"sheet": "Nope"})
    failed = client.wait_status(job["id"])
    assert failed["status"] == "FAILED" and "Sheet1" in failed["error"]["message"]
    url = f"/api/jobs/{job['id']}/retry"
    for body, code, says in [({"options": {"sheet": 1, "colour": "red"}}, "bad_options", "colour"),
                             ({"options": {"sheet": 0}}, "bad_options", "sheet"),
                             ({"priority": 11}, "bad_priority", "priority"),
                             ({"speed": "fast"}, "bad_request", "speed"),
                             ([1, 2], "bad_request", "JSON object")]:
        r = client.request("POST", url, json=body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code and says in r.json()["error"]["message"], (body, r.text)
    assert client.job(job["id"])["status"] == "FAILED"  # nothing changed by a refused retry
    r = client.request("POST", url, json={"options": {"sheet": 1}, "priority": 9})
    assert r.status_code == 200, r.text
    assert r.json()["options"] == {"sheet": 1} and r.json()["priority"] == 9 and r.json()["status"] == "PENDING"
    done = client.wait_status(job["id"])
    assert done["status"] == "DONE" and client.get(done["download_url"]).text.startswith("a,b,c")


def test_cancel_stops_a_job_keeps_its_record_and_frees_its_bytes(runner, client):
    """A converting job and a pending one, canceled: both stay as CANCELED with their history, their
    inputs go and their bytes are given back; the runner stops the conversion (the next job is done
    long before the canceled one's converter would have finished)."""
    client.upload("first.md", b"# first\n", "html")
    for j in client.get("/api/jobs").json()["jobs"]:
        client.wait_status(j["id"])
    before = client.get("/api/usage").json()["bytes_used"]
    slow = client.submit("slow.md", b"# slow\n", "html", options={"debug_sleep_ms": 20000})
    client.wait_status(slow["id"], statuses=("PROCESSING",))
    waiting = client.submit("waiting.md", b"# waiting\n", "html", options={"debug_sleep_ms": 20000})
    assert client.job(waiting["id"])["status"] == "PENDING"
    assert client.get("/api/usage").json()["bytes_used"] == before + len(b"# slow\n") + len(b"# waiting\n")
    for job in (waiting, slow):
        r = client.request("POST", f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "CANCELED", r.text
    assert client.get("/api/usage").json()["bytes_used"] == before
    t0 = time.time()
    quick = client.submit("quick.md", b"# quick\n", "html")
    assert client.wait_status(quick["id"], timeout=15)["status"] == "DONE"
    assert time.time() - t0 < 10  # the runner let go of the 20 s conversion
    for job in (waiting, slow):
        kept = client.job(job["id"])
        assert kept["status"] == "CANCELED" and kept["download_url"] is None
        kinds = [e["kind"] for e in client.get(f"/api/jobs/{job['id']}/events").json()["events"]]
        assert kinds[0] == "queued" and kinds[-1] == "canceled", kinds
        path = psql(f"SELECT input_path FROM jobs WHERE id = '{job['id']}'")
        assert not StoreView().exists(path)
        r = client.request("POST", f"/api/jobs/{job['id']}/cancel")
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_cancelable"
    assert client.request("POST", f"/api/jobs/{quick['id']}/cancel").json()["error"]["code"] == "not_cancelable"
    assert Client().request("POST", f"/api/jobs/{slow['id']}/cancel").status_code in (401, 404)  # another client's
    time.sleep(2)
    assert client.job(slow["id"])["status"] == "CANCELED"  # the stopped attempt changed nothing


def test_one_upload_to_several_targets(runner, client):
    """`to=html,pdf`: one job per target, the file stored once and charged once."""
    data = b"# Several\n\nOne file, two targets.\n"
    r = client.upload("several.md", data, "html,pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    jobs = body["jobs"]
    assert [j["output_format"] for j in jobs] == ["html", "pdf"]
    assert {j["upload_id"] for j in jobs} == {body["upload_id"]} and r.headers["Location"] == f"/api/uploads/{body['upload_id']}"
    done = [client.wait_status(j["id"]) for j in jobs]
    assert [j["status"] for j in done] == ["DONE", "DONE"]
    assert "<h1>Several</h1>" in client.get(done[0]["download_url"]).text
    assert client.get(done[1]["download_url"]).content.startswith(b"%PDF-")
    used = client.get("/api/usage").json()["bytes_used"]
    assert used == len(data) + sum(j["output_bytes"] for j in done)  # the input once
    assert psql(f"SELECT count(DISTINCT input_path) FROM jobs WHERE upload_id = '{body['upload_id']}'") == "1"
    for to, code in [("html,html", "bad_targets"), ("html,xlsx", "unsupported_conversion"), ("html,", "bad_targets"),
                     (",".join(["html", "pdf", "txt", "md", "docx", "csv", "json", "xlsx", "pptx"]), "bad_targets")]:
        r = client.upload("x.md", b"# x\n", to)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (to, r.text)
    r = client.upload("x.md", b"# x\n", "html,pdf", headers={"Idempotency-Key": "k-several"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    r = client.http.post(f"{BASE}/api/convert", files={"file": ("x.md", b"# x\n")}, data={"to": "html,pdf"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_targets"
    assert client.get("/api/usage").json()["bytes_used"] == used  # nothing of the refused ones kept


def test_list_filters_paginates_and_sorts(runner, client):
    ids = [client.submit(f"{i}.md", f"# {i}\n".encode(), "html")["id"] for i in range(5)]
    for i in ids:
        client.wait_status(i)
    seen, cursor = [], None
    while True:
        q = "/api/jobs?limit=2&order=asc" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(q).json()
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    desc = [j["id"] for j in client.get("/api/jobs?limit=100").json()["jobs"]]
    assert desc == ids[::-1]
    assert client.get("/api/jobs?status=FAILED").json()["jobs"] == []
    assert len(client.get("/api/jobs?status=done").json()["jobs"]) == 5
    for bad in ("limit=0", "limit=101", "status=NOPE", "order=sideways", "cursor=zzz"):
        r = client.get(f"/api/jobs?{bad}")
        assert r.status_code == 400 and "error" in r.json(), bad


def test_patch_done_job_is_409(runner, client):
    job = client.submit("p.md", b"# p\n", "html")
    client.wait_status(job["id"])
    r = client.request("PATCH", f"/api/jobs/{job['id']}", json={"priority": 3})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_pending"


def test_output_of_unfinished_or_failed_job_is_409(runner, client):
    job = client.submit("bad.csv", b'a,b\n1,"open\n', "json")
    failed = client.wait_status(job["id"])
    assert failed["status"] == "FAILED"
    r = client.get(f"/api/jobs/{job['id']}/output")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_ready"


def test_retry_failed_job(runner, client):
    job = client.submit("bad.csv", b'a,b\n1,"open\n', "json")
    assert client.wait_status(job["id"])["status"] == "FAILED"
    r = client.request("POST", f"/api/jobs/{job['id']}/retry")
    assert r.status_code == 200 and r.json()["status"] == "PENDING" and r.json()["attempt"] == 0
    assert client.wait_status(job["id"])["status"] == "FAILED"  # same input, same verdict
    done = client.submit("ok.md", b"# ok\n", "html")
    client.wait_status(done["id"])
    r = client.request("POST", f"/api/jobs/{done['id']}/retry")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_failed"


def test_delete_frees_quota_and_files(runner, client):
    client.upload("a.md", b"# a\n", "html")
    job = client.submit("big.md", b"# big\n" + b"x" * 100_000, "html")
    done = client.wait_status(job["id"])
    used_before = client.get("/api/usage").json()["bytes_used"]
    paths = psql(f"SELECT input_path || ' ' || output_path FROM jobs WHERE id = '{job['id']}'").split()
    store = StoreView()
    assert all(store.exists(p) for p in paths)
    r = client.request("DELETE", f"/api/jobs/{job['id']}")
    assert r.status_code == 200 and r.json()["deleted"] is True
    used_after = client.get("/api/usage").json()["bytes_used"]
    assert used_before - used_after == done["input_bytes"] + done["output_bytes"]
    assert not any(store.exists(p) for p in paths)
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.request("DELETE", f"/api/jobs/{job['id']}").status_code == 404


def test_usage_counts_inputs_and_outputs(runner, client):
    a = client.submit("a.md", b"# a\n", "html")
    done = client.wait_status(a["id"])
    usage = client.get("/api/usage").json()
    assert usage["bytes_used"] == done["input_bytes"] + done["output_bytes"]
    assert usage["bytes_limit"] == 250 * 1024 * 1024 and usage["expires_at"]


def test_formats_queue_health_metrics(client):
    formats = {f["id"]: f for f in client.get("/api/formats").json()["formats"]}
    assert formats["md"]["to"] == ["extract", "html", "pdf", "txt"] and "json" in formats["csv"]["to"]
    assert formats["txt"]["to"] == ["extract", "html", "md", "pdf"] and formats["html"]["to"] == ["extract", "md", "pdf", "txt"]
    queue = client.get("/api/queue").json()
    assert set(queue["counts"]) == {"PENDING", "PROCESSING", "DONE", "FAILED", "CANCELED"}
    assert client.get("/api/health").json() == {"status": "ok", "database": "ok"}
    import requests
    m = requests.get(f"{BASE}/metrics", timeout=10)  # from 127.0.0.1: allowed
    assert m.status_code == 200 and "docflow_jobs{status=\"DONE\"}" in m.text and "docflow_database_up 1" in m.text


def test_metrics_refused_from_other_addresses():
    # The nginx rule is `allow 127.0.0.1; deny all`: any other loopback address is refused.
    r = Client().get("/metrics")
    assert r.status_code == 403


def test_bad_requests_are_json(client):
    cases = [
        (client.upload("x.md", b"# x\n", "json"), 400, "unsupported_conversion"),
        (client.upload("x.doc", b"# x\n", "html"), 415, "unsupported_format"),
        (client.upload("x.docx", b"# x\n", "html"), 415, "content_mismatch"),
        (client.upload("x.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "html"), 415, "content_mismatch"),
        (client.upload("x.md", b"", "html"), 400, "empty_file"),
        (client.upload("x.md", b"# x\n", "html", priority=42), 400, "bad_priority"),
        (client.get("/api/nothing"), 404, "not_found"),
        (client.get("/api/jobs/not-a-uuid"), 404, "not_found"),
    ]
    for r, status, code in cases:
        assert r.status_code == status, (code, r.text)
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["error"]["code"] == code
    assert not os.listdir(os.path.join(WORK, "tmp"))


def test_progress_is_throttled_and_deletion_is_announced(runner, client):
    client.upload("first.md", b"# first\n", "html")
    ws = client.websocket()
    job = client.submit("slow.md", b"# slow\n", "html", options={"debug_sleep_ms": 1500})
    events = ws_events(ws, lambda e: e["job"]["id"] == job["id"] and e["type"] == "job_done")
    progress = [e for e in events if e["type"] == "job_progress" and e["job"]["id"] == job["id"]]
    assert 2 <= len(progress) <= 8, [e["job"]["progress"] for e in progress]  # 30 ticks, ≥ 250 ms apart
    values = [e["job"]["progress"] for e in progress]
    assert values == sorted(values) and all(0 <= v < 100 for v in values)
    assert progress[0]["job"]["step"] and progress[0]["job"]["status"] == "PROCESSING"
    assert client.request("DELETE", f"/api/jobs/{job['id']}").status_code == 200
    deleted = ws_events(ws, lambda e: e["type"] == "job_deleted")[-1]
    assert deleted["job"]["id"] == job["id"] and deleted["job"]["status"] == "DONE"
    ws.close()


def test_cli_checks_options_and_lists_them(tmp_path):
    src = tmp_path / "a.csv"
    src.write_bytes(b"a;b\n1;2\n")
    out = tmp_path / "a.json"
    r = subprocess.run([f"{BIN}/docflow", "convert", str(src), str(out), "--options", '{"delimitr": ";"}'], capture_output=True, text=True)
    assert r.returncode == 2 and "delimitr" in r.stderr and "delimiter" in r.stderr, r.stderr
    assert not out.exists() and not (tmp_path / "a.json.part").exists()
    r = subprocess.run([f"{BIN}/docflow", "convert", str(src), str(out), "--options", '{"delimiter": "semicolon"}'], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(out.read_text()) == [{"a": 1, "b": 2}], r.stderr
    listing = subprocess.run([f"{BIN}/docflow", "formats"], capture_output=True, text=True, check=True).stdout
    assert "Word document" in listing and "PowerPoint presentation" in listing  # names are not cut short
    assert "options for writing pdf:" in listing and "page_size:" in listing and "row_group_rows:" in listing
    assert "  csv → parquet: delimiter, header, infer_types, keep_empty_strings, compression, row_group_rows\n" in listing
    assert "  md → txt" not in listing  # no options, not listed
