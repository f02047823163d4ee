"""The conversion sandbox and least privilege, tried from inside as a hostile file's code would.

The `debug_*` job options (DOCFLOW_TEST_HOOKS=1, test instance only) run inside the sandboxed
converter, where a decoder bug's payload would run, and report each attempt in the job's metadata.
"""
import glob
import os
import pwd
import socket
import subprocess
import time

import pytest

from conftest import AS_SERVICE, BIN, PROC_ENV, ROOT, STORAGE, VAR, Client, psql, quiesce, start_runner, stop


@pytest.fixture
def runner():
    p = start_runner("--budget", "120", env={"DOCFLOW_JOB_TIMEOUT_SECONDS": "3"})
    yield p
    assert p.poll() is None, "the runner died"
    stop(p)


def converter_processes():
    out = subprocess.run(["ps", "-eo", "pid,user,args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "convert-worker" in l and "bwrap" not in l]


def test_the_converter_reaches_no_network_no_other_files_and_writes_nowhere(runner):
    quiesce()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    other = Client()
    theirs = other.submit("secret.md", b"# another client's secret\n", "html")
    other.wait_status(theirs["id"])
    their_input = os.path.join(STORAGE, psql(f"SELECT input_path FROM jobs WHERE id = '{theirs['id']}'"))
    assert os.path.exists(their_input)
    me = Client()
    probes = {
        "debug_connect_port": port,
        # /proc is the sandbox's own: the runner (and its environment: the database, the store's key) is not in it.
        "debug_read_paths": ["/etc/shadow", "/etc/passwd", their_input, f"{VAR}/docflow.env", f"/proc/{runner.pid}/environ"],
        "debug_write_paths": [f"{STORAGE}/output/escape.txt", "/usr/escape.txt", "/escape.txt", "/etc/escape.txt"],
    }
    job = me.submit("probe.md", b"# probe\n", "html", options=probes)
    done = me.wait_status(job["id"])
    assert done["status"] == "DONE", done
    results = done["metadata"]["debug_probes"]
    assert len(results) == 1 + 5 + 4, results
    for name, outcome in results.items():
        assert outcome.startswith("refused"), (name, outcome)
    with pytest.raises(socket.timeout):
        listener.accept()  # nobody connected
    listener.close()
    assert not os.path.exists(f"{STORAGE}/output/escape.txt")
    assert not os.path.exists("/usr/escape.txt") and not os.path.exists("/escape.txt")
    # Its own scratch folder is writable: that is where the converters' temporary files go.
    job = me.submit("scratch.md", b"# scratch\n", "html", options={"debug_write_paths": ["/tmp/mine.txt"]})
    assert me.wait_status(job["id"])["metadata"]["debug_probes"]["write /tmp/mine.txt"] == "allowed"
    # ... and it is emptied after the job.
    assert not glob.glob(f"{STORAGE}/scratch/sbx-*/mine.txt")


def test_a_fork_bomb_is_bounded_and_its_processes_end_with_the_job(runner):
    quiesce()
    c = Client()
    job = c.submit("bomb.md", b"# bomb\n", "html", options={"debug_fork_bomb": True})
    done = c.wait_status(job["id"], timeout=30)
    assert done["status"] == "DONE", done
    outcome = done["metadata"]["debug_probes"]["fork"]
    assert outcome.startswith("refused after"), outcome
    assert int(outcome.split()[2]) <= 256
    time.sleep(0.3)
    # The runner's current converter and its warm spare remain, nothing of the bomb.
    assert len(converter_processes()) <= 2 * 9, converter_processes()  # 8 slots of the instance + this runner
    ok = c.submit("after.md", b"# after\n", "html")
    assert c.wait_status(ok["id"])["status"] == "DONE"


def test_ten_gigabytes_fail_on_the_memory_limit_and_the_batch_goes_on(runner):
    quiesce()
    c = Client()
    hog = c.submit("hog.md", b"# hog\n", "html", options={"debug_alloc_mb": 10240})
    ok = c.submit("ok.md", b"# ok\n", "html")
    failed = c.wait_status(hog["id"], timeout=60)
    # The same signal twice on the same input: deterministic, so no third attempt.
    assert failed["status"] == "FAILED" and failed["attempt"] == 2, failed
    assert failed["error"]["code"] == "converter_crashed"
    assert "memory limit" in failed["error"]["message"] and "crashed on this file twice" in failed["error"]["message"]
    assert c.wait_status(ok["id"])["status"] == "DONE"


def test_a_spinning_converter_is_killed_at_its_time_limit_and_the_runner_lives_on(runner):
    quiesce()
    c = Client()
    spin = c.submit("spin.md", b"# spin\n", "html", options={"debug_spin": True})
    ok = c.submit("ok.md", b"# ok\n", "html")
    t0 = time.time()
    failed = c.wait_status(spin["id"], timeout=60)
    assert failed["status"] == "FAILED" and failed["attempt"] == 3
    assert failed["error"]["code"] == "timeout" and "3 s time limit" in failed["error"]["message"]
    assert time.time() - t0 < 3 * 3 + 10
    assert c.wait_status(ok["id"])["status"] == "DONE"
    assert not [l for l in converter_processes() if " R " in l]


def test_an_output_past_the_file_size_limit_fails_cleanly():
    quiesce()
    c = Client()
    job = c.submit("big.md", b"# big\n", "html", options={"debug_write_mb": 8})
    p = start_runner("--drain", "--budget", "30", env={"DOCFLOW_JOB_FILE_MB": "2"})
    try:
        failed = c.wait_status(job["id"], timeout=30)
    finally:
        stop(p)
    assert failed["status"] == "FAILED" and failed["attempt"] == 1
    assert failed["error"]["code"] == "too_large" and "2 MiB file-size limit" in failed["error"]["message"]
    assert os.listdir(os.path.join(STORAGE, "output", c.client_id)) == []  # no part file left


def test_a_converter_that_closes_its_link_or_leaves_a_child_fails_only_its_job(runner):
    quiesce()
    c = Client()
    closed = c.submit("closed.md", b"# closed\n", "html", options={"debug_close_channel": True})
    child = c.submit("child.md", b"# child\n", "html", options={"debug_leave_child": True})
    failed = c.wait_status(closed["id"], timeout=30)
    assert failed["status"] == "FAILED" and failed["error"]["code"] == "converter_crashed", failed
    assert "Markdown → HTML converter closed its link" in failed["error"]["message"]
    assert c.wait_status(child["id"])["status"] == "DONE"
    time.sleep(0.3)
    assert len(converter_processes()) <= 2 * 9, converter_processes()


def test_the_runner_refuses_to_start_without_its_sandbox():
    for env, words in (({"DOCFLOW_BWRAP": "/nonexistent/bwrap"}, "is missing"),
                       # a bwrap that cannot build the sandbox (as on a kernel without user namespaces)
                       ({"DOCFLOW_BWRAP": "/bin/false"}, "could not be set up"),
                       ({"DOCFLOW_SANDBOX": "maybe"}, "DOCFLOW_SANDBOX must be")):
        out = subprocess.run([f"{BIN}/job-runner", "--budget", "5"], env={**PROC_ENV, **env},
                             capture_output=True, text=True, timeout=30, **AS_SERVICE)
        assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
        assert words in out.stdout + out.stderr
    # The documented development setting runs converters unsandboxed, and says so.
    c = Client()
    job = c.submit("dev.md", b"# dev\n", "html")
    p = start_runner("--drain", "--budget", "20", env={"DOCFLOW_SANDBOX": "off"}, log=f"{VAR}/log/sandbox-off.log")
    assert p.wait(30) == 0
    assert c.job(job["id"])["status"] == "DONE"
    assert "development only" in open(f"{VAR}/log/sandbox-off.log").read()


def test_the_hostile_corpus_through_the_api_leaves_every_runner_alive(runner):
    quiesce()
    c = Client()
    targets = {"csv": "json", "json": "csv", "xlsx": "csv", "parquet": "csv", "md": "pdf", "html": "md",
               "txt": "pdf", "docx": "md", "pptx": "md", "pdf": "md"}
    jobs = []
    for path in sorted(glob.glob(f"{ROOT}/Tests/Fixtures/hostile/*")):
        ext = path.rsplit(".", 1)[-1]
        if ext not in targets:
            continue
        with open(path, "rb") as f:
            data = f.read()
        r = c.upload(os.path.basename(path), data, targets[ext])
        if r.status_code == 429:
            time.sleep(1)
            r = c.upload(os.path.basename(path), data, targets[ext])
        if r.status_code == 201:
            jobs.append(r.json()["id"])
        else:
            assert r.status_code in (400, 413, 415), (path, r.status_code, r.text)
    assert len(jobs) >= 10
    for j in jobs:
        assert c.wait_status(j, timeout=120)["status"] in ("DONE", "FAILED")
    assert runner.poll() is None


def test_no_service_process_runs_as_root():
    out = subprocess.run(["ps", "-eo", "user:20,args"], capture_output=True, text=True).stdout
    ours = [l for l in out.splitlines() if VAR in l or "convert-worker" in l]
    assert any("fcgi-app" in l for l in ours) and any("ws-gateway" in l for l in ours)
    assert any("nginx" in l for l in ours), ours
    # PostgreSQL's postmaster, found by its pid file (its command line's form depends on how it was
    # last started: a CI run once listed none with the instance's folder in it).
    with open(f"{VAR}/data/postmaster.pid") as f:
        postmaster = int(f.readline())
    assert pwd.getpwuid(os.stat(f"/proc/{postmaster}").st_uid).pw_name == "postgres"
    for line in ours:
        assert line.split()[0] in ("docflow", "www-data", "postgres"), line
    # nginx's workers too (their command line does not name the folder).
    for line in out.splitlines():
        if "nginx: worker process" in line:
            assert line.split()[0] != "root", line


def test_state_files_are_not_for_other_users():
    import stat
    for path, mode in ((f"{VAR}/docflow.env", 0o600), (f"{VAR}/run/fcgi.sock", 0o660), (STORAGE, 0o2750)):
        assert stat.S_IMODE(os.stat(path).st_mode) == mode, (path, oct(os.stat(path).st_mode))
    for dirpath, dirs, files in os.walk(STORAGE):
        for name in files:
            assert os.stat(os.path.join(dirpath, name)).st_mode & 0o007 == 0, os.path.join(dirpath, name)
    # The database role is the owner of its database, not a superuser.
    assert psql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "f"
    assert psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()") == "docflow"
    hba = subprocess.run(["cat", f"{VAR}/data/pg_hba.conf"], capture_output=True, text=True).stdout
    rules = [l for l in hba.splitlines() if l.strip() and not l.startswith("#")]
    assert rules and all("peer" in l and l.startswith("local") for l in rules), rules
