"""Webhooks on the real instance (issue 16): a receiver on 127.0.0.1 run by the test, real runners
and the janitor sending from the PostgreSQL outbox. The signature is checked as a receiver would
(HMAC-SHA256 over "timestamp.body" with the secret the API showed once)."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Client, psql, run_janitor, start_runner, stop

# Quick retries for the tests; the production defaults are 10 s doubling, 10 s per attempt, 24 h.
FAST = {"DOCFLOW_WEBHOOK_BACKOFF_SECONDS": "0.3", "DOCFLOW_WEBHOOK_TIMEOUT_SECONDS": "1.5"}


class Receiver:
    """Answers each path with its scripted statuses in turn (the last one repeats); "slow" sleeps
    past the sender's time limit first."""

    def __init__(self):
        self.requests, self.scripts, self.lock = [], {}, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body, time.time()))
                    script = receiver.scripts.setdefault(self.path, [200])
                    answer = script.pop(0) if len(script) > 1 else script[0]
                if answer == "slow":
                    time.sleep(3)
                    answer = 200
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, path, *answers):
        self.scripts[path] = list(answers)
        return self.url + path

    def wait(self, path, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = [r for r in self.requests if r[0] == path]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(got)} of {count} deliveries arrived")


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def runner():
    """A runner (and its webhook sender) for one test: the last tests need none running."""
    proc = start_runner("--budget", "600", env=FAST)
    yield proc
    stop(proc)


def verify(secret, headers, body):
    """What a receiver does: recompute the signature, compare in constant time, check the age."""
    parts = dict(p.split("=", 1) for p in headers["Docflow-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "signature does not verify"
    assert abs(time.time() - int(parts["t"])) < 60


def deliveries(client, job_id, until_state=None, timeout=20):
    deadline = time.time() + timeout
    while True:
        r = client.get(f"/api/jobs/{job_id}/webhooks")
        assert r.status_code == 200, r.text
        ds = r.json()["deliveries"]
        if until_state is None or (ds and all(d["state"] == until_state for d in ds)) or time.time() > deadline:
            return ds
        time.sleep(0.1)


def test_a_finished_job_is_delivered_signed_once(runner, receiver, client):
    url = receiver.script("/ok", 200)
    r = client.upload("hook.md", b"# hook\n", "html", extra={"callback_url": url})
    assert r.status_code == 201, r.text
    job = r.json()
    secret = job["webhook_secret"]
    assert len(secret) == 64 and job["callback_url"] == url
    assert client.wait_status(job["id"])["status"] == "DONE"
    ((path, headers, body, _),) = receiver.wait("/ok", 1)
    verify(secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "job_done" and event["job"]["id"] == job["id"] and event["job"]["status"] == "DONE"
    assert headers["Docflow-Event"] == "job_done" and headers["Content-Type"] == "application/json"
    (d,) = deliveries(client, job["id"], "DELIVERED")
    assert d["state"] == "DELIVERED" and d["attempts"] == 1 and d["log"][0]["status"] == 200
    assert headers["Docflow-Delivery"] == str(d["id"])
    # The secret is shown once: the next job with a callback does not carry it.
    again = client.upload("hook2.md", b"# again\n", "html", extra={"callback_url": url}).json()
    assert "webhook_secret" not in again
    # Another client sees none of it.
    assert Client().get(f"/api/jobs/{job['id']}/webhooks").status_code == 404


def test_a_500_is_retried_until_a_200(runner, receiver, client):
    url = receiver.script("/flaky", 500, 500, 200)
    job = client.upload("flaky.md", b"# flaky\n", "html", extra={"callback_url": url}).json()
    secret = job["webhook_secret"]
    got = receiver.wait("/flaky", 3)
    for _, headers, body, _ in got:
        verify(secret, headers, body)
    assert len({h["Docflow-Delivery"] for _, h, _, _ in got}) == 1  # one delivery, three attempts
    (d,) = deliveries(client, job["id"], "DELIVERED")
    assert [a["status"] for a in d["log"]] == [500, 500, 200] and d["attempts"] == 3
    # Backoff doubles: the second wait is longer than the first.
    times = [t for *_, t in got]
    assert times[2] - times[1] > times[1] - times[0] > 0.2


def test_a_slow_receiver_is_timed_out_and_retried(runner, receiver, client):
    url = receiver.script("/slow", "slow", 200)
    job = client.upload("slow.md", b"# slow\n", "html", extra={"callback_url": url}).json()
    receiver.wait("/slow", 2)
    (d,) = deliveries(client, job["id"], "DELIVERED")
    assert d["log"][0]["status"] == 0 and "no answer within 1.5 s" in d["log"][0]["error"]
    assert 1.4 < d["log"][0]["seconds"] < 2.5 and d["log"][1]["status"] == 200


def test_the_client_default_is_called_for_failed_jobs_too(runner, receiver):
    user = Client()
    url = receiver.script("/default", 200)
    r = user.request("PUT", "/api/webhook", json={"url": url})
    assert r.status_code == 200 and len(r.json()["secret"]) == 64, r.text
    secret = r.json()["secret"]
    assert user.get("/api/webhook").json() == {"url": url, "secret_set": True}
    assert "secret" not in user.request("PUT", "/api/webhook", json={"url": url}).json()
    job = user.submit("broken.csv", b'a,b\n"unterminated,1\n', "json")
    assert user.wait_status(job["id"])["status"] == "FAILED"
    ((_, headers, body, _),) = receiver.wait("/default", 1)
    verify(secret, headers, body)
    assert json.loads(body)["type"] == "job_failed" and json.loads(body)["job"]["error"]["code"] == "malformed_input"
    # A rotated secret signs what follows; the default can be removed.
    rotated = user.request("POST", "/api/webhook/secret").json()["secret"]
    assert rotated != secret
    job2 = user.submit("ok.md", b"# ok\n", "html")
    user.wait_status(job2["id"])
    _, headers2, body2, _ = receiver.wait("/default", 2)[1]
    verify(rotated, headers2, body2)
    assert user.request("DELETE", "/api/webhook").json() == {"url": None}
    job3 = user.submit("none.md", b"# none\n", "html")
    user.wait_status(job3["id"])
    assert deliveries(user, job3["id"]) == []


def test_unsafe_or_malformed_callback_urls_are_refused_at_upload(client):
    for url in ["ftp://example.com/hook", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/hook",
                "http://192.168.1.1/", "http://[fd00::1]/", "http://user:pw@example.com/", "http://nonexistent.invalid/",
                "javascript:alert(1)", "http://0.0.0.0:80/"]:
        r = client.upload("x.md", b"# x\n", "html", extra={"callback_url": url})
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_callback_url", (url, r.text)
    assert client.client_id is None  # nothing kept
    r = Client().request("PUT", "/api/webhook", json={"url": "http://172.16.0.1/"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_callback_url"


def test_a_delivery_is_given_up_after_its_window_with_its_attempts_kept(receiver, client):
    proc = start_runner("--budget", "600", env={**FAST, "DOCFLOW_WEBHOOK_GIVE_UP_SECONDS": "2"})
    try:
        url = receiver.script("/down", 503)
        job = client.upload("down.md", b"# down\n", "html", extra={"callback_url": url}).json()
        (d,) = deliveries(client, job["id"], "FAILED", timeout=15)
        assert d["state"] == "FAILED" and d["finished_at"] and d["next_attempt_at"] is None
        assert d["attempts"] >= 2 and all(a["status"] == 503 for a in d["log"]) and len(d["log"]) == d["attempts"]
    finally:
        stop(proc)


def test_the_janitor_sends_what_came_due_while_no_runner_ran(receiver, client):
    proc = start_runner("--budget", "600", env={**FAST, "DOCFLOW_WEBHOOK_BACKOFF_SECONDS": "1"})
    url = receiver.script("/later", 500, 200)
    job = client.upload("later.md", b"# later\n", "html", extra={"callback_url": url}).json()
    receiver.wait("/later", 1)
    stop(proc)  # the runner (and its sender) is gone before the retry comes due
    time.sleep(1.2)
    assert psql(f"SELECT state FROM webhook_deliveries WHERE job_id = '{job['id']}'") == "PENDING"
    report = run_janitor(env=FAST)
    assert report["webhook_attempts"] >= 1
    (d,) = deliveries(client, job["id"], "DELIVERED")
    assert [a["status"] for a in d["log"]] == [500, 200]
