"""The PostgreSQL queue with real runner processes: exactly-once under concurrency, crashes,
lease expiry, attempts, time and memory limits. No background runner here: each test starts
the runners it needs."""
import json
import os
import signal
import time
import uuid

from conftest import S3, STORAGE, StoreView, service_makedirs, service_write, VAR, Client, psql, quiesce, start_runner, stop


def insert_jobs(client_id, n, fmt="md", body=b"# job\n\nhello\n"):
    """n pending jobs through SQL (the upload path is tested elsewhere; 1,000 uploads through
    nginx would only test the rate limit). Each job gets its own real input file (an object on the
    S3 backend)."""
    d = os.path.join(STORAGE, "input", client_id)
    if not S3:
        service_makedirs(d)  # as fcgi-app would have stored them
    psql(f"INSERT INTO clients (id, expires_at, bytes_limit) VALUES ('{client_id}', now() + interval '1 day', 262144000)")
    ids = psql(f"""
        INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256,
                          output_format, expires_at)
        SELECT g, '{client_id}', 'j.{fmt}', '{fmt}', 'input/{client_id}/' || g || '.{fmt}', {len(body)},
               repeat('0', 64), 'html', now() + interval '1 day'
        FROM (SELECT gen_random_uuid() AS g FROM generate_series(1, {n})) s
        RETURNING id""").split()
    store = StoreView() if S3 else None
    for i in ids:
        if store:
            store.put(f"input/{client_id}/{i}.{fmt}", body)
        else:
            service_write(os.path.join(d, f"{i}.{fmt}"), body)
    return ids


def wait_processing(client, job_id):
    deadline = time.time() + 10
    while client.job(job_id)["status"] != "PROCESSING":
        assert time.time() < deadline
        time.sleep(0.1)


def runner_log_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def test_runners_drain_1000_jobs_exactly_once(tmp_path):
    quiesce()
    client_id = str(uuid.uuid4())
    ids = insert_jobs(client_id, 1000)
    logs = [tmp_path / f"runner{i}.log" for i in range(4)]
    procs = [start_runner("--drain", "--budget", "120", log=str(p)) for p in logs]
    for p in procs:
        assert p.wait(150) == 0
    rows = psql(f"SELECT status, attempt, count(*) FROM jobs WHERE client_id = '{client_id}' GROUP BY 1, 2")
    assert rows == "DONE|1|1000", rows
    finished = [e["docflow.job.id"] for p in logs for e in runner_log_events(p) if e["message"] == "job finished"]
    assert len(finished) == 1000 and set(finished) == set(ids)  # each converted once, by one runner
    per_runner = [sum(1 for e in runner_log_events(p) if e["message"] == "job finished") for p in logs]
    assert sum(1 for n in per_runner if n > 0) >= 2, per_runner  # the work was actually shared
    outputs = os.listdir(os.path.join(STORAGE, "output", client_id))
    assert sorted(outputs) == sorted(f"{i}-a1.html" for i in ids)
    used = int(psql(f"SELECT bytes_used FROM clients WHERE id = '{client_id}'"))
    total = int(psql(f"SELECT sum(input_bytes + output_bytes) FROM jobs WHERE client_id = '{client_id}'"))
    assert used == total
    psql(f"DELETE FROM clients WHERE id = '{client_id}'")


def test_kill_9_mid_job_is_retried_and_done(client, tmp_path):
    quiesce()
    job = client.submit("slow.md", b"# slow\n", "html", options={"debug_sleep_ms": 4000})
    victim = start_runner("--budget", "60")
    wait_processing(client, job["id"])
    time.sleep(0.5)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    rescuer = start_runner("--drain", "--budget", "60")
    try:
        done = client.wait_status(job["id"], timeout=30)
    finally:
        stop(rescuer)
    assert done["status"] == "DONE" and done["attempt"] == 2
    assert psql("SELECT count(*) FROM jobs WHERE status = 'PROCESSING'") == "0"
    assert len(os.listdir(os.path.join(STORAGE, "output", client.client_id))) == 1


def test_job_that_always_crashes_fails_after_max_attempts(client):
    quiesce()
    job = client.submit("crash.md", b"# boom\n", "html", options={"debug_crash": True})
    # The converter dies (SIGKILL, as a segfault or the OOM killer would); the runner records
    # each attempt itself and lives on.
    p = start_runner("--drain", "--budget", "30")
    assert p.wait(40) == 0
    failed = client.job(job["id"])
    assert failed["status"] == "FAILED" and failed["attempt"] == failed["max_attempts"] == 3
    assert failed["error"]["code"] == "converter_crashed"
    assert "Gave up after 3 attempts" in failed["error"]["message"] and "SIGKILL" in failed["error"]["message"]
    # A healthy job right after is done: nothing is stuck.
    ok = client.submit("ok.md", b"# ok\n", "html")
    p = start_runner("--drain", "--budget", "20")
    p.wait(30)
    assert client.job(ok["id"])["status"] == "DONE"


def test_time_limit_costs_an_attempt(client):
    quiesce()
    job = client.submit("long.md", b"# long\n", "html", options={"debug_sleep_ms": 5000})
    after = client.submit("next.md", b"# next\n", "html")
    p = start_runner("--drain", "--budget", "30", env={"DOCFLOW_JOB_TIMEOUT_SECONDS": "1"})
    assert p.wait(40) == 0  # the converter is killed, not the runner
    j = client.job(job["id"])
    assert j["status"] == "FAILED" and j["attempt"] == 3
    assert j["error"]["code"] == "timeout" and "time limit" in j["error"]["message"]
    assert client.job(after["id"])["status"] == "DONE"


def test_memory_limit_costs_an_attempt(client):
    quiesce()
    job = client.submit("hog.md", b"# hog\n", "html", options={"debug_alloc_mb": 3000})
    limited = {"DOCFLOW_JOB_MEMORY_MB": "1024"}
    p = start_runner("--drain", "--budget", "30", env=limited)
    assert p.wait(40) == 0  # the allocation fails under the converter's RLIMIT_AS; the runner lives
    j = client.job(job["id"])
    # Twice the same signal on the same input: the job fails without a third attempt.
    assert j["status"] == "FAILED" and j["attempt"] == 2 and j["error"]["code"] == "converter_crashed"
    assert "1024 MiB memory limit" in j["error"]["message"] and "Markdown → HTML converter crashed on this file twice" in j["error"]["message"]
    # The same job fits under the default limit: the limit is the converter's, per job.
    client.request("DELETE", f"/api/jobs/{job['id']}")


def test_bad_input_fails_the_job_and_the_runner_lives_on(client):
    quiesce()
    bad_csv = client.submit("broken.csv", b'name,value\n"unterminated,1\n2,3\n', "json")
    bad_md = client.submit("broken.md", b"\xef\xbb\xbf# title \xff\xfe bad utf8\n", "html")
    good = client.submit("fine.md", b"# fine\n", "html")
    p = start_runner("--drain", "--budget", "20")
    assert p.wait(30) == 0
    csv_job, md_job, ok = client.job(bad_csv["id"]), client.job(bad_md["id"]), client.job(good["id"])
    assert csv_job["status"] == "FAILED" and csv_job["attempt"] == 1
    assert csv_job["error"] == {"code": "malformed_input",
                                "message": "Malformed CSV: the quoted field that starts on line 2 is never closed."}
    assert md_job["status"] == "FAILED" and "not valid UTF-8" in md_job["error"]["message"]
    assert ok["status"] == "DONE"
    owners = psql(f"SELECT count(DISTINCT locked_by) FROM jobs WHERE id IN ('{bad_csv['id']}', '{good['id']}')")
    assert owners == "1"  # the same runner process handled the failures and the good job


def test_priority_patch_while_pending(client):
    quiesce()
    job = client.submit("p.md", b"# p\n", "html")
    r = client.request("PATCH", f"/api/jobs/{job['id']}", json={"priority": 10})
    assert r.status_code == 200 and r.json()["priority"] == 10
    assert client.request("PATCH", f"/api/jobs/{job['id']}", json={"priority": 0}).status_code == 400
    assert client.request("PATCH", f"/api/jobs/{job['id']}", data="nope").status_code == 400
    client.request("DELETE", f"/api/jobs/{job['id']}")


def test_higher_priority_is_claimed_first(client):
    quiesce()
    low = client.submit("low.md", b"# low\n", "html", priority=1)
    high = client.submit("high.md", b"# high\n", "html", priority=10)
    p = start_runner("--drain", "--budget", "20")
    p.wait(30)
    assert client.job(high["id"])["started_at"] < client.job(low["id"])["started_at"]


def test_output_over_quota_fails_that_job_only(client, tmp_path):
    quiesce()
    # Claimed as batches [s1], [s2, big], [s3]: the big output fails the grouped finish, which is
    # then retried job by job, so only the big one fails.
    s1 = client.submit("s1.md", b"# s1\n", "html")
    s2 = client.submit("s2.md", b"# s2\n", "html")
    big = client.submit("big.md", b"# big\n\n" + b"word " * 2000 + b"\n", "html")
    s3 = client.submit("s3.md", b"# s3\n", "html")
    psql(f"UPDATE clients SET bytes_limit = bytes_used + 4000 WHERE id = '{client.client_id}'")
    used_before = int(psql(f"SELECT bytes_used FROM clients WHERE id = '{client.client_id}'"))
    log = tmp_path / "runner.log"
    p = start_runner("--drain", "--budget", "20", log=str(log))
    assert p.wait(30) == 0
    summary = [e for e in runner_log_events(log) if e["message"] == "runner finished"][0]
    assert int(summary["docflow.runner.claims"]) < 4  # some jobs shared a claim, hence a grouped finish
    b = client.job(big["id"])
    smalls = [client.job(j["id"]) for j in (s1, s2, s3)]
    assert b["status"] == "FAILED" and b["error"]["code"] == "quota_exceeded" and b["output_bytes"] is None
    assert [j["status"] for j in smalls] == ["DONE"] * 3
    used_after = int(psql(f"SELECT bytes_used FROM clients WHERE id = '{client.client_id}'"))
    assert used_after == used_before + sum(j["output_bytes"] for j in smalls)
    outputs = sorted(os.listdir(os.path.join(STORAGE, "output", client.client_id)))
    assert outputs == sorted(f"{j['id']}-a1.html" for j in smalls)  # the refused output was removed
