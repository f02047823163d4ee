"""Job history, /metrics and the Grafana dashboard (issue 16), on a real instance.

The history is written by triggers in the transaction of each state change; /metrics folds it
into histograms at each scrape. These tests run known jobs and check the history's story and the
metrics' counts and bucket sums against what the jobs themselves say.
"""
import json
import os
import re

import requests

from conftest import BASE, ENV, ROOT, Client, psql, quiesce


def scrape(url=f"{BASE}/metrics"):
    """The samples of one scrape: {(name, frozenset(labels)): value}, every TYPE line checked."""
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples, types = {}, {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+)(?:\{(.*)\})? (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    for name, _ in samples:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, f"{name} has no TYPE line"
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def histogram(samples, name, **labels):
    """(cumulative buckets by le, sum, count) of one series."""
    buckets = {}
    for (n, ls), v in samples.items():
        d = dict(ls)
        if n == f"{name}_bucket" and {k: d.get(k) for k in labels} == labels and len(d) == len(labels) + 1:
            buckets[d["le"]] = v
    return buckets, value(samples, f"{name}_sum", **labels), value(samples, f"{name}_count", **labels)


def check_buckets(buckets, count):
    ordered = sorted(buckets.items(), key=lambda kv: float("inf") if kv[0] == "+Inf" else float(kv[0]))
    values = [v for _, v in ordered]
    assert values == sorted(values), f"buckets are not cumulative: {ordered}"
    assert buckets["+Inf"] == count


def events(client, job_id):
    r = client.get(f"/api/jobs/{job_id}/events")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job_id"] == job_id
    return body["events"]


def test_history_tells_each_state_change_with_time_and_attempt(runner, client):
    job = client.submit("story.md", b"# A story\n\nwith a middle.\n", "html", options={"debug_sleep_ms": 1500})
    done = client.wait_status(job["id"])
    assert done["status"] == "DONE"
    history = events(client, job["id"])
    kinds = [e["kind"] for e in history]
    assert kinds[:2] == ["queued", "claimed"] and kinds[-1] == "done", kinds
    # Milestones only (a quarter of the work each), not every progress write.
    progress = [e["progress"] for e in history if e["kind"] == "progress"]
    assert 2 <= len(progress) <= 3 and progress == sorted(progress), history
    claimed = history[1]
    assert re.fullmatch(r".+:\d+", claimed["runner"]) and claimed["attempt"] == 1 and claimed["wait_seconds"] >= 0
    assert int(claimed["runner"].rsplit(":", 1)[1]) == runner.pid
    last = history[-1]
    assert last["output_bytes"] == done["output_bytes"] and last["attempt"] == 1 and last["seconds"] >= 1.5
    assert history[0]["input_bytes"] == done["input_bytes"] and history[0]["priority"] == done["priority"]
    times = [e["at"] for e in history]
    assert times == sorted(times)

    # Scoped like everything else: another client's job is unknown, as is a malformed id.
    assert Client().get(f"/api/jobs/{job['id']}/events").status_code == 404
    assert client.get("/api/jobs/not-a-uuid/events").status_code in (400, 404)

    # Deleting the job keeps its history, which now ends with the deletion.
    assert client.request("DELETE", f"/api/jobs/{job['id']}").status_code == 200
    after = events(client, job["id"])
    assert [e["kind"] for e in after] == kinds + ["deleted"] and after[-1]["status"] == "DONE"


def test_history_tells_retries_with_their_reasons(runner, client):
    job = client.submit("crash.md", b"# crash\n", "txt", options={"debug_crash": True})
    failed = client.wait_status(job["id"])
    assert failed["status"] == "FAILED"
    history = events(client, job["id"])
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "queued" and kinds[-1] == "failed" and "retried" in kinds, kinds
    assert kinds.count("claimed") == failed["attempt"]
    for e in history:
        if e["kind"] in ("retried", "failed"):
            assert e["code"] == "converter_crashed" and e["message"] and e["runner" if e["kind"] == "retried" else "code"]
    # A client's retry is its own event, and the next claim starts again at attempt 1.
    assert client.request("POST", f"/api/jobs/{job['id']}/retry").status_code == 200
    client.wait_status(job["id"])
    again = events(client, job["id"])
    assert again[len(history)]["kind"] == "requeued"
    assert again[len(history) + 1]["kind"] == "claimed" and again[len(history) + 1]["attempt"] == 1


def test_expired_client_takes_its_history_with_it(runner, client):
    from conftest import run_janitor
    job = client.submit("old.md", b"# old\n", "html")
    client.wait_status(job["id"])
    assert psql(f"SELECT count(*) FROM job_events WHERE job_id = '{job['id']}'") != "0"
    psql(f"UPDATE clients SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = '{client.client_id}'")
    psql(f"UPDATE jobs SET expires_at = now() - interval '1 second' WHERE client_id = '{client.client_id}'")
    run_janitor()
    assert psql(f"SELECT count(*) FROM job_events WHERE client_id = '{client.client_id}'") == "0"


def test_metrics_count_known_jobs_and_their_buckets(runner):
    quiesce()
    before, _ = scrape()
    ws_before, _ = scrape(f"http://127.0.0.1:{ENV['DOCFLOW_WS_PORT']}/metrics")
    user = Client()
    jobs = [user.submit(f"m{i}.md", b"# metrics\n\n" + b"word " * (100 * i), "html") for i in range(1, 4)]
    ws = user.websocket()
    done = [user.wait_status(j["id"]) for j in jobs]
    assert all(j["status"] == "DONE" for j in done)
    crash = user.submit("c.md", b"# c\n", "txt", options={"debug_crash": True})
    crashed = user.wait_status(crash["id"])
    # A quota refusal: the client's limit lowered to what it uses.
    psql(f"UPDATE clients SET bytes_limit = bytes_used WHERE id = '{user.client_id}'")
    assert user.upload("over.md", b"# over\n", "html").status_code == 413
    ws_open, _ = scrape(f"http://127.0.0.1:{ENV['DOCFLOW_WS_PORT']}/metrics")
    ws.close()
    after, types = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    pair = "md>html"
    assert delta("docflow_job_events_total", pair=pair, event="queued") == 3
    assert delta("docflow_job_events_total", pair=pair, event="done") == 3
    assert delta("docflow_job_events_total", pair=pair, event="claimed") == 3

    b1, s1, c1 = histogram(before, "docflow_job_conversion_seconds", pair=pair, outcome="done")
    b2, s2, c2 = histogram(after, "docflow_job_conversion_seconds", pair=pair, outcome="done")
    check_buckets(b2, c2)
    assert c2 - c1 == 3 and s2 - s1 > 0
    _, _, w1 = histogram(before, "docflow_job_queue_wait_seconds", pair=pair)
    wb, _, w2 = histogram(after, "docflow_job_queue_wait_seconds", pair=pair)
    check_buckets(wb, w2)
    assert w2 - w1 == 3
    for name, field in (("docflow_job_input_bytes", "input_bytes"), ("docflow_job_output_bytes", "output_bytes")):
        _, s1, c1 = histogram(before, name, pair=pair)
        b, s2, c2 = histogram(after, name, pair=pair)
        check_buckets(b, c2)
        assert c2 - c1 == 3 and s2 - s1 == sum(j[field] for j in done), name
    _, a1, n1 = histogram(before, "docflow_job_attempts", pair=pair, outcome="done")
    _, a2, n2 = histogram(after, "docflow_job_attempts", pair=pair, outcome="done")
    assert n2 - n1 == 3 and a2 - a1 == 3

    # The crashing job: its retries and its failure by code, its attempts in the histogram.
    retries = crashed["attempt"] - 1
    assert delta("docflow_job_failures_total", pair="md>txt", event="retried", code="converter_crashed") == retries
    assert delta("docflow_job_failures_total", pair="md>txt", event="failed", code="converter_crashed") == 1
    _, a1, n1 = histogram(before, "docflow_job_attempts", pair="md>txt", outcome="failed")
    _, a2, n2 = histogram(after, "docflow_job_attempts", pair="md>txt", outcome="failed")
    assert n2 - n1 == 1 and a2 - a1 == crashed["attempt"]

    # This process's requests, by route template; the quota refusal.
    assert delta("docflow_http_requests_total", route="/api/jobs", method="POST", status="201") == 4
    assert delta("docflow_http_requests_total", route="/api/jobs", method="POST", status="413") == 1
    assert delta("docflow_quota_refusals_total") == 1 and delta("docflow_api_errors_total", code="quota_exceeded") == 1
    rb, _, rc = histogram(after, "docflow_http_request_duration_seconds", route="/api/jobs/{id}", method="GET")
    check_buckets(rb, rc)
    assert rc >= 4
    # Gauges from the database.
    assert value(after, "docflow_runners") >= 1
    assert value(after, "docflow_storage_bytes_used") == int(psql("SELECT coalesce(sum(bytes_used), 0) FROM clients"))
    assert types["docflow_job_queue_wait_seconds"] == "histogram" and types["docflow_jobs"] == "gauge"

    # The gateway's own figures: the socket, and the events it sent to it.
    assert value(ws_open, "docflow_ws_connections") >= 1
    assert value(ws_open, "docflow_ws_connections_total") - value(ws_before, "docflow_ws_connections_total") == 1
    assert value(ws_open, "docflow_ws_events_sent_total") > value(ws_before, "docflow_ws_events_sent_total")


def test_gateway_metrics_refused_from_other_addresses():
    import socket
    s = socket.create_connection(("127.0.0.1", int(ENV["DOCFLOW_WS_PORT"])), source_address=(Client().address, 0), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"docflow_ws_connections" not in s.recv(4096)
    s.close()


def test_grafana_dashboard_draws_only_metrics_that_exist():
    dashboard = json.load(open(os.path.join(ROOT, "deploy", "grafana", "docflow.json")))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    samples, _ = scrape()
    ws, _ = scrape(f"http://127.0.0.1:{ENV['DOCFLOW_WS_PORT']}/metrics")
    names = {n for n, _ in samples} | {n for n, _ in ws}
    for expr in exprs:
        for name in re.findall(r"\b(docflow_[a-z_]+)", expr):
            assert name in names, f"{name} in the dashboard is not exported"
