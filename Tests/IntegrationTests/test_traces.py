"""Traces (issue 16): one job followed from the upload through fcgi-app, a runner and the gateway,
as the OTLP/HTTP spans a real receiver gets (PyPI oteltap: OtelTap's native OTLP receiver).

scripts/test runs the instance with OTEL_EXPORTER_OTLP_ENDPOINT pointing at the port this module
listens on, and a parent-based sampler that samples nothing on its own: only requests that bring a
sampled W3C `traceparent` are traced, so the rest of the suite exports nothing, and every span here
is one this module asked for."""
import asyncio
import json
import os
import secrets
import threading
import time
from urllib.parse import urlparse

import pytest

from conftest import ENV, VAR, Client, start_runner, stop, ws_events

SERVER, CONSUMER, PRODUCER, CLIENT, INTERNAL = 2, 5, 4, 3, 1  # OTLP Span.SpanKind
STATUS_ERROR = 2


class Receiver:
    """oteltap's receiver on the instance's OTLP port, on an event loop of its own; every span it
    gets is kept as a dict (ids in hex, attributes as plain values)."""

    def __init__(self, port):
        from oteltap import OtelTapHttpProtobufReceiver, OtelTapHttpProtobufReceiverSettings
        self.spans, self.lock, self.ready = [], threading.Lock(), threading.Event()
        self.loop = asyncio.new_event_loop()

        async def main():
            self.stopping = asyncio.Event()
            async with OtelTapHttpProtobufReceiver(OtelTapHttpProtobufReceiverSettings(http_port=port)) as r:
                async def collect():
                    async for s in r.stream_traces():
                        with self.lock:
                            self.spans.append(self.plain(s))
                task = asyncio.ensure_future(collect())
                await asyncio.sleep(0.2)  # the subscription is in place
                self.ready.set()
                await self.stopping.wait()
                task.cancel()

        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(main()), daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the OTLP receiver did not start"

    @staticmethod
    def plain(s):
        def value(v):
            kind = v.WhichOneof("value")
            return getattr(v, kind) if kind else None
        return {"name": s.name, "kind": s.kind, "trace": s.trace_id.hex(), "id": s.span_id.hex(),
                "parent": s.parent_span_id.hex(), "start": s.start_time_unix_nano, "end": s.end_time_unix_nano,
                "status": s.status.code, "attributes": {a.key: value(a.value) for a in s.attributes}}

    def trace(self, trace_id, until, timeout=30):
        """The spans of one trace, once `until(spans)` holds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                spans = [s for s in self.spans if s["trace"] == trace_id]
            if until(spans):
                return spans
            time.sleep(0.1)
        raise AssertionError(f"trace {trace_id}: only {[(s['name'], s['attributes'].get('docflow.event')) for s in spans]}")

    def stop(self):
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def receiver():
    endpoint = ENV.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    assert endpoint, "the instance runs without traces: scripts/test sets OTEL_EXPORTER_OTLP_ENDPOINT"
    r = Receiver(urlparse(endpoint).port)
    yield r
    r.stop()


def new_traceparent():
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent, f"00-{trace_id}-{parent}-01"


def drain_runner(log):
    """A runner that works until the queue is empty, then exits. Its batch delay is a minute: its
    spans can only arrive through the export it makes on its way out."""
    p = start_runner("--drain", "--budget", "30", env={"OTEL_BSP_SCHEDULE_DELAY": "60000"}, log=log)
    try:
        assert p.wait(40) == 0
    finally:
        stop(p)


def log_lines(path, **match):
    out = []
    for line in open(path, errors="replace"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if all(entry.get(k) == v for k, v in match.items()):
            out.append(entry)
    return out


def one(spans, **match):
    found = [s for s in spans if all(s.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, [(s["name"], s["parent"]) for s in spans])
    return found[0]


def test_one_job_is_one_trace_from_the_upload_to_the_websocket(receiver, client):
    client.submit("warm.md", b"# a client first\n", "html")  # the cookie, for the socket
    ws = client.websocket()
    trace_id, parent, traceparent = new_traceparent()
    data = b"name,n\nada,1\ngrace,2\n"
    r = client.upload("people.csv", data, "json", headers={"traceparent": traceparent})
    assert r.status_code == 201, r.text
    job_id, request_id = r.json()["id"], r.headers["X-Request-Id"]
    runner_log = f"{VAR}/log/traces-runner.log"
    drain_runner(runner_log)
    ws_events(ws, lambda e: e["type"] == "job_done" and e["job"]["id"] == job_id)
    ws.close()
    job = client.job(job_id)
    assert job["status"] == "DONE"

    steps = ("claim", "read", "convert", "write", "finish")

    def complete(spans):
        names = [s["name"] for s in spans]
        return (all(n in names for n in ("POST /api/jobs", "job") + steps)
                and any(s["attributes"].get("docflow.event") == "job_done" for s in spans))

    spans = receiver.trace(trace_id, complete)

    # fcgi-app: the request's span, a child of the client's, with nginx's request id.
    http = one(spans, name="POST /api/jobs")
    assert http["kind"] == SERVER and http["parent"] == parent
    a = http["attributes"]
    assert a["docflow.request.id"] == request_id
    assert a["http.response.status_code"] == 201 and a["http.route"] == "/api/jobs" and a["http.request.method"] == "POST"
    assert a["docflow.job.id"] == job_id and a["docflow.pair"] == "csv>json" and a["docflow.input.bytes"] == len(data)

    # The runner: the attempt under the request's span, its steps under the attempt, in order.
    attempt = one(spans, name="job")
    assert attempt["kind"] == CONSUMER and attempt["parent"] == http["id"]
    a = attempt["attributes"]
    assert a["docflow.job.id"] == job_id and a["docflow.pair"] == "csv>json" and a["docflow.attempt"] == 1
    assert a["docflow.input.bytes"] == len(data) and a["docflow.output.bytes"] == job["output_bytes"]
    assert a["docflow.outcome"] == "done" and attempt["status"] != STATUS_ERROR
    children = [one(spans, name=n) for n in steps]
    for c in children:
        assert c["parent"] == attempt["id"] and c["kind"] == INTERNAL
        assert attempt["start"] <= c["start"] <= c["end"] <= attempt["end"], c["name"]
    starts = [c["start"] for c in children]
    assert starts == sorted(starts), list(zip(steps, starts))
    assert http["end"] <= attempt["start"]

    # The gateway: each event it relayed for the job, under the request's span.
    events = [s for s in spans if s["name"] == "ws event"]
    done = [s for s in events if s["attributes"]["docflow.event"] == "job_done"]
    assert len(done) == 1 and done[0]["kind"] == PRODUCER and done[0]["parent"] == http["id"]
    assert done[0]["attributes"]["docflow.job.id"] == job_id and done[0]["attributes"]["docflow.ws.sockets"] == 1
    assert {s["parent"] for s in events} == {http["id"]}

    # Every span of the trace is one of these: nothing stray, nothing from another trace.
    assert len(spans) == 2 + len(steps) + len(events)

    # Log lines carry the job id and the trace id: fcgi-app's (with the request id) and the runner's.
    queued = log_lines(f"{VAR}/log/fcgi-app.log", message="job queued", **{"docflow.job.id": job_id})
    assert len(queued) == 1 and queued[0]["docflow.trace.id"] == trace_id and queued[0]["docflow.request.id"] == request_id
    finished = log_lines(runner_log, message="job finished", **{"docflow.job.id": job_id})
    assert len(finished) == 1 and finished[0]["docflow.trace.id"] == trace_id


def test_a_failed_attempt_says_why_in_its_spans(receiver, client):
    trace_id, parent, traceparent = new_traceparent()
    r = client.upload("bad.csv", b'a,b\n1,"open\n', "json", headers={"traceparent": traceparent})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    drain_runner(f"{VAR}/log/traces-runner.log")
    job = client.wait_status(job_id)
    assert job["status"] == "FAILED"
    code = job["error"]["code"]

    spans = receiver.trace(trace_id, lambda s: any(x["name"] == "job" for x in s) and any(x["name"] == "finish" for x in s))
    attempt = one(spans, name="job")
    a = attempt["attributes"]
    assert a["docflow.outcome"] == "failed" and a["docflow.error.code"] == code and attempt["status"] == STATUS_ERROR
    convert = one(spans, name="convert")
    assert convert["status"] == STATUS_ERROR and convert["attributes"]["docflow.error.code"] == code
    assert "write" not in {s["name"] for s in spans}


def test_a_malformed_traceparent_starts_no_trace_of_its_own(receiver, client):
    """Not sampled, no parent: under this instance's sampler the request is not traced, and the
    job still runs (an invalid header is ignored, never an error)."""
    r = client.upload("x.md", b"# x\n", "html", headers={"traceparent": "00-XYZ-not-a-trace-01"})
    assert r.status_code == 201
    job_id = r.json()["id"]
    drain_runner(f"{VAR}/log/traces-runner.log")
    assert client.wait_status(job_id)["status"] == "DONE"
    time.sleep(1)
    with receiver.lock:
        mine = [s for s in receiver.spans if s["attributes"].get("docflow.job.id") == job_id]
    assert mine == []


def test_a_webhook_delivery_joins_the_trace_and_passes_it_on(receiver, client):
    """The runner's sender: a `webhook` client span under the upload's span, and the same trace's
    traceparent in the request, so a traced receiver continues it."""
    from test_webhooks import FAST, Receiver as WebhookReceiver
    hooks = WebhookReceiver()
    trace_id, parent, traceparent = new_traceparent()
    r = client.upload("h.md", b"# hook\n", "html", headers={"traceparent": traceparent},
                      extra={"callback_url": hooks.script("/traced", 200)})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    p = start_runner("--budget", "20", env={**FAST, "DOCFLOW_RUNNER_HANDOFF_SECONDS": "0"}, log=f"{VAR}/log/traces-runner.log")
    try:
        path, headers, body, _ = hooks.wait("/traced", 1)[0]
        spans = receiver.trace(trace_id, lambda s: any(x["name"] == "webhook" for x in s))
    finally:
        stop(p)
    http = one(spans, name="POST /api/jobs")
    hook = one(spans, name="webhook")
    assert hook["kind"] == CLIENT and hook["parent"] == http["id"] and hook["status"] != STATUS_ERROR
    a = hook["attributes"]
    assert a["docflow.job.id"] == job_id and a["docflow.event"] == "job_done" and a["http.response.status_code"] == 200
    assert a["docflow.webhook.attempt"] == 1
    sent = {k.lower(): v for k, v in headers.items()}["traceparent"]
    assert sent == f"00-{trace_id}-{hook['id']}-01"


def test_a_runner_stopped_by_sigterm_exports_what_it_ended(receiver, client):
    trace_id, parent, traceparent = new_traceparent()
    p = start_runner("--budget", "60", env={"OTEL_BSP_SCHEDULE_DELAY": "60000"}, log=f"{VAR}/log/traces-runner.log")
    try:
        r = client.upload("s.md", b"# stop\n", "html", headers={"traceparent": traceparent})
        assert r.status_code == 201, r.text
        assert client.wait_status(r.json()["id"])["status"] == "DONE"
        p.terminate()
        assert p.wait(10) == 128 + 15
    finally:
        stop(p)
    spans = receiver.trace(trace_id, lambda s: {"job", "finish"} <= {x["name"] for x in s}, timeout=10)
    assert one(spans, name="job")["attributes"]["docflow.outcome"] == "done"
