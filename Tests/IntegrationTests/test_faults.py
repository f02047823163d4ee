"""The queue under faults (issue: "the queue and the edge under faults"): a statement that loses
a deadlock, a stalled runner whose job must not be stolen from its successor, a PostgreSQL restart
under load, and the hand-over of a runner slot at the end of a budget (the minute boundary).
Each test failed against the runner before the fix (README: the queue's states and transitions)."""
import os
import signal
import subprocess
import threading
import time
import uuid

from conftest import (ENV, STORAGE, VAR, Client, psql, quiesce, run_janitor, service_makedirs,
                      service_write, start_runner, stop)
from test_queue import runner_log_events, wait_processing


def insert_mixed(clients, n, block=3):
    """n pending Markdown jobs spread over `clients` in runs of `block` (so claimed batches hold
    several clients' jobs and finishes charge several clients at once), their input files written
    first (as fcgi-app does); returns their ids."""
    for c in clients:
        service_makedirs(os.path.join(STORAGE, "input", c))
        psql(f"INSERT INTO clients (id, expires_at, bytes_limit) VALUES ('{c}', now() + interval '1 day', 262144000)")
    jobs = [(str(uuid.uuid4()), clients[(k // block) % len(clients)]) for k in range(n)]
    for i, c in jobs:
        service_write(os.path.join(STORAGE, "input", c, f"{i}.md"), b"# job\n\nhello\n")
    values = ",".join(f"('{i}'::uuid, '{c}'::uuid, {k})" for k, (i, c) in enumerate(jobs))
    sql = f"""
        INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256,
                          output_format, expires_at, created_at)
        SELECT i, c, 'j.md', 'md', 'input/' || c || '/' || i || '.md', 14, repeat('0', 64), 'html',
               now() + interval '1 day', now() + make_interval(secs => k * 1e-6)
        FROM (VALUES {values}) AS v(i, c, k)"""
    subprocess.run(["psql", ENV["DOCFLOW_DATABASE"], "-v", "ON_ERROR_STOP=1", "-qf", "-"], input=sql, text=True,
                   check=True, capture_output=True)
    return [i for i, _ in jobs]


def pg_ctl(*args):
    pg_bin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    data = f"{VAR}/data"
    subprocess.run(["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{pg_bin}/bin/pg_ctl", "-D", data, *args],
                   check=True, capture_output=True)


def restart_postgres():
    """A fast restart with the options the server was started with (postmaster.opts)."""
    pg_ctl("-w", "-m", "fast", "-l", f"{VAR}/data/server.log", "restart")


def test_multi_client_finish_load_never_kills_a_runner(tmp_path):
    # 2 runners × 4 rounds of 2,000 jobs of 8 clients: the grouped finishes charge several clients
    # at once. Before the fix the clients' rows were updated in no fixed order (the issue saw
    # 40P01 in 2 of 16 such runs; our rounds did not reproduce it, the next test does every time).
    for r in range(4):
        quiesce()
        clients = [str(uuid.uuid4()) for _ in range(8)]
        insert_mixed(clients, 2000)
        logs = [tmp_path / f"round{r}-runner{k}.log" for k in range(2)]
        procs = [start_runner("--drain", "--budget", "120", log=str(p)) for p in logs]
        assert [p.wait(150) for p in procs] == [0, 0]
        arr = "ARRAY[" + ",".join(f"'{c}'::uuid" for c in clients) + "]"
        assert psql(f"SELECT status || ':' || attempt || ':' || count(*) FROM jobs WHERE client_id = ANY({arr}) GROUP BY status, attempt") == "DONE:1:2000"
        used = psql(f"SELECT bool_and(c.bytes_used = (SELECT sum(input_bytes + output_bytes) FROM jobs j WHERE j.client_id = c.id)) FROM clients c WHERE c.id = ANY({arr})")
        assert used == "t"  # every client charged exactly its inputs and outputs
        assert not any("40P01" in p.read_text() for p in logs)
        psql(f"DELETE FROM clients WHERE id = ANY({arr})")


def test_finish_that_loses_a_deadlock_is_retried_and_the_runner_lives(client, tmp_path):
    """A session that holds a client's row and then wants the runner's job row (an operator's
    transaction, say) forms a cycle with the runner's finish; PostgreSQL aborts the runner's
    statement (it waited longer). The runner runs the finish again instead of exiting."""
    quiesce()
    job = client.submit("d.md", b"# deadlock\n", "html")
    cid = client.client_id
    db = ENV["DOCFLOW_DATABASE"]
    adversary = subprocess.Popen(["psql", db, "-v", "ON_ERROR_STOP=1", "-qtA"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    adversary.stdin.write(f"BEGIN;\nSELECT 1 FROM clients WHERE id = '{cid}' FOR UPDATE;\n")
    adversary.stdin.flush()
    time.sleep(0.3)
    log = tmp_path / "runner.log"
    p = start_runner("--drain", "--budget", "30", log=str(log))
    # The runner's finish has updated the job row and waits for the client row.
    deadline = time.time() + 10
    while psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'docflow' AND wait_event_type = 'Lock' "
               "AND query LIKE '%clients%'") != "1":
        assert time.time() < deadline, "the runner's finish never waited for the client row"
        time.sleep(0.05)
    # Close the cycle within deadlock_timeout (1 s) of the runner's wait: its backend detects it.
    adversary.stdin.write(f"UPDATE jobs SET priority = priority WHERE id = '{job['id']}';\nCOMMIT;\n")
    adversary.stdin.close()
    adversary.wait(30)
    assert p.wait(30) == 0
    events = runner_log_events(log)
    assert any(e["message"].startswith("statement lost a deadlock") and e["docflow.sqlstate"] == "40P01" for e in events)
    done = client.job(job["id"])
    assert done["status"] == "DONE" and done["attempt"] == 1
    assert int(psql(f"SELECT bytes_used FROM clients WHERE id = '{cid}'")) == done["input_bytes"] + done["output_bytes"]


def test_stalled_runner_keeps_its_lock_and_its_successor_is_not_robbed(client):
    """Runner A is stopped mid-job. After its lease the job is put back, but not handed out while
    A's session still holds the job's lock; once A is continued its late finish is refused and it
    lets go; runner B then converts attempt 2, and no rescuer takes B's healthy attempt."""
    quiesce()
    job = client.submit("hang.md", b"# hang\n", "html", options={"debug_sleep_ms": 1500})
    a = start_runner("--budget", "60")
    wait_processing(client, job["id"])
    os.kill(a.pid, signal.SIGSTOP)
    b = None
    try:
        time.sleep(3.5)  # DOCFLOW_LEASE_SECONDS=3 in the test instance
        b = start_runner("--drain", "--budget", "60")
        time.sleep(2.5)
        j = client.job(job["id"])
        assert j["status"] == "PENDING" and j["attempt"] == 1, j  # rescued, but not given to B
        assert j["error"]["code"] == "runner_lost"
        os.kill(a.pid, signal.SIGCONT)
        done = client.wait_status(job["id"], timeout=30)
        assert done["status"] == "DONE" and done["attempt"] == 2, done
        assert b.wait(30) == 0
        # Rescuers now find nothing to take: B's attempt 2 stands, A's output is gone.
        assert run_janitor()["rescued"] == 0
    finally:
        # Whatever failed, neither runner outlives the test (a leftover would take the next
        # tests' jobs).
        os.kill(a.pid, signal.SIGCONT)
        stop(a)
        if b is not None:
            stop(b)
    after = client.job(job["id"])
    assert after["status"] == "DONE" and after["attempt"] == 2 and after["processed_at"] == done["processed_at"]
    assert os.listdir(os.path.join(STORAGE, "output", client.client_id)) == [f"{job['id']}-a2.html"]


def test_a_long_attempt_is_not_rescued_while_its_runner_renews_the_lease(client):
    """The healthy side of the same rule: a job converting longer than several leases is left to
    its runner by every rescuer (janitor and idle runners), and is done at attempt 1."""
    quiesce()
    job = client.submit("long.md", b"# long\n", "html", options={"debug_sleep_ms": 8000})
    a = start_runner("--budget", "60")
    idle = start_runner("--budget", "60")
    try:
        wait_processing(client, job["id"])
        for _ in range(3):
            time.sleep(2)
            assert run_janitor()["rescued"] == 0
        done = client.wait_status(job["id"], timeout=30)
    finally:
        stop(a)
        stop(idle)
    assert done["status"] == "DONE" and done["attempt"] == 1


def test_runners_survive_a_postgres_restart_under_load(tmp_path):
    quiesce()
    clients = [str(uuid.uuid4()) for _ in range(4)]
    logs = [tmp_path / f"runner{k}.log" for k in range(2)]
    runners = [start_runner("--budget", "120", log=str(p)) for p in logs]
    stop_feeding = threading.Event()
    inserted = []

    def feed():
        # 20 jobs a second, through the outage (inserts that meet it are retried).
        while not stop_feeding.is_set():
            try:
                inserted.extend(insert_mixed([str(uuid.uuid4())], 4, block=4))
            except subprocess.CalledProcessError:
                time.sleep(0.1)
                continue
            time.sleep(0.2)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        time.sleep(3)
        restart_postgres()
        time.sleep(6)
    finally:
        stop_feeding.set()
        feeder.join()
    deadline = time.time() + 30
    while psql("SELECT count(*) FROM jobs WHERE status IN ('PENDING', 'PROCESSING')") != "0":
        assert time.time() < deadline, psql("SELECT status, count(*) FROM jobs GROUP BY 1")
        time.sleep(0.2)
    assert [r.poll() for r in runners] == [None, None]  # both lived through the restart
    for r in runners:
        stop(r)
    ids = ",".join(f"'{i}'" for i in inserted)
    assert psql(f"SELECT string_agg(DISTINCT status::text, ',') FROM jobs WHERE id IN ({ids})") == "DONE"
    # No job waited for a runner of the next cron minute: the slowest took a few seconds.
    worst = float(psql(f"SELECT max(extract(epoch FROM processed_at - created_at)) FROM jobs WHERE id IN ({ids})"))
    assert worst < 10, worst
    events = [e for p in logs for e in runner_log_events(p)]
    assert sum(1 for e in events if e["message"] == "reconnected to the database") == 2
    psql(f"DELETE FROM clients WHERE id IN (SELECT client_id FROM jobs WHERE id IN ({ids}))")


def test_a_runner_hands_its_slot_to_a_successor_with_no_gap(client, tmp_path):
    """The minute boundary: with one slot, runner A (budget 2 s) keeps working past its budget
    until runner B, started meanwhile as cron would, is waiting for the slot; B takes it at once.
    Sampled every 20 ms, some runner holds the slot the whole time, and no job waits."""
    quiesce()
    one_slot = {"DOCFLOW_RUNNER_SLOTS": "1"}
    log_a, log_b, log_c = (tmp_path / f"{n}.log" for n in "abc")
    a = start_runner("--budget", "2", env=one_slot, log=str(log_a))
    time.sleep(0.5)
    b = start_runner("--budget", "3", env=one_slot, log=str(log_b))  # the next minute's runner
    held, jobs = [], []
    t0 = time.time()
    while time.time() - t0 < 4.5:
        held.append(psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7002 AND objid = 1 AND granted"))
        if len(held) % 10 == 0:
            jobs.append(client.submit("m.md", b"# minute\n", "html")["id"])
        time.sleep(0.02)
    assert a.wait(5) == 0  # A is gone, B has the slot
    assert b.poll() is None
    c = start_runner("--budget", "30", env=one_slot, log=str(log_c))  # B's successor
    for j in jobs:
        client.wait_status(j, timeout=10)
    stop(b)
    stop(c)
    assert set(held) == {"1"}, held  # never a moment without a runner on the slot
    a_events, b_events = runner_log_events(log_a), runner_log_events(log_b)
    assert any(e["message"] == "budget spent; handing the slot to the waiting runner" for e in a_events)
    assert any(e["message"] == "all runner slots are busy; waiting to take over one" for e in b_events)
    worst = float(psql("SELECT max(extract(epoch FROM processed_at - created_at)) FROM jobs WHERE id IN ("
                       + ",".join(f"'{j}'" for j in jobs) + ")"))
    assert worst < 1.0, worst
