"""The API's published contract on the running instance: /api/openapi.json, and what schemathesis
found wrong once (each case kept here so it stays fixed). Tests/Contract/run runs schemathesis itself."""
import json
import os

import requests

from conftest import BASE, ROOT, Client


def test_the_description_is_served_as_kept_in_the_repository(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    kept = json.load(open(os.path.join(ROOT, "Sources", "DocFlowWeb", "openapi.json")))
    assert r.json() == kept and kept["openapi"] == "3.1.0"


def test_every_405_says_what_is_allowed(client):
    # nginx refuses TRACE, and POST to a static file, itself: fcgi-app still supplies the Allow header.
    for method, path, allow in [("TRACE", "/api/jobs", "GET, POST"), ("POST", "/index.html", "GET, HEAD"),
                                ("PUT", "/api/formats", "GET"), ("POST", "/api/jobs/00000000-0000-4000-8000-000000000000", "GET, DELETE, PATCH"),
                                ("DELETE", "/api/jobs/archive", "GET")]:  # a resource of its own, not a job id
        r = client.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.headers.get("Allow") == allow, (method, path, r.headers)
        assert r.json()["error"]["code"] == "method_not_allowed"


def test_delete_names_the_previous_status_as_the_job_does(client):
    job = client.submit("a.md", b"# a\n", "html")
    r = client.request("DELETE", f"/api/jobs/{job['id']}")
    assert job["status"] == "PENDING" and r.json()["previous_status"] == "PENDING"  # no runner in this module


def test_a_bad_status_filter_is_refused_even_before_a_first_upload():
    r = Client().get("/api/jobs?status=AAA")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_status"


def test_a_form_upload_with_query_parameters_is_refused_not_half_read(client):
    r = client.http.post(f"{BASE}/api/jobs?to=pdf", files={"file": ("a.md", b"# a\n")}, data={"to": "html"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert client.client_id is None  # nothing was kept, no client made


def test_every_answer_carries_nginx_request_id_as_its_access_log_does(client):
    import re
    import time
    from conftest import VAR
    r = client.get("/api/formats")
    rid = r.headers.get("X-Request-Id", "")
    assert re.fullmatch(r"[0-9a-f]{32}", rid), r.headers
    assert client.get("/api/jobs/not-a-job").headers.get("X-Request-Id") not in (None, rid)  # one per request, errors too
    log = os.path.join(VAR, "nginx", "log", "access.log")
    deadline = time.time() + 5
    while f"request_id={rid}" not in open(log, errors="replace").read():
        assert time.time() < deadline, "the request id is not in nginx's access log"
        time.sleep(0.1)
