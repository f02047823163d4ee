"""Operator-facing pieces: cron entries, migrations, nginx config, health with the database down."""
import os
import re
import stat
import subprocess
import time

import requests

from conftest import AS_SERVICE, BASE, BIN, ENV, PROC_ENV, ROOT, STORAGE, VAR, Client, psql, service_write


def test_cron_entries_are_valid_and_their_commands_run(tmp_path):
    out = tmp_path / "cron"
    subprocess.run([f"{ROOT}/scripts/instance", "render-cron", str(out)], check=True, env=PROC_ENV)
    for name in ("docflow-job-runner", "docflow-janitor"):
        assert "." not in name
        lines = [l for l in (out / name).read_text().splitlines() if l and not l.startswith("#")]
        assert any(l.startswith("PATH=") for l in lines)
        entries = [l for l in lines if not re.match(r"^[A-Z_]+=", l)]
        assert len(entries) == 1
        fields = entries[0].split(None, 6)
        assert len(fields) == 7 and fields[5] == "docflow"  # never root
        assert "%" not in fields[6]
        if name == "docflow-janitor":
            assert "flock -n" in fields[6]
            before = os.path.getsize(f"{VAR}/log/janitor.log") if os.path.exists(f"{VAR}/log/janitor.log") else 0
            subprocess.run(["/bin/sh", "-c", fields[6]], check=True, timeout=60, **AS_SERVICE)
            assert os.path.getsize(f"{VAR}/log/janitor.log") > before  # the janitor ran and logged
        else:
            # Run the runner entry with a tiny budget, as cron would, and check it starts and exits.
            # No handoff wait: no successor comes here (cron is not running in the test instance).
            cmd = "export DOCFLOW_RUNNER_HANDOFF_SECONDS=0; " + fields[6].replace("job-runner ", "job-runner --budget 1 ")
            subprocess.run(["/bin/sh", "-c", cmd], check=True, timeout=60, **AS_SERVICE)
            log = open(f"{VAR}/log/job-runner.log").read()
            assert "runner started" in log or "slots are busy" in log


def test_migrations_are_recorded_and_idempotent():
    out = subprocess.run([f"{BIN}/janitor", "migrate"], env=PROC_ENV, capture_output=True, text=True, check=True, **AS_SERVICE)
    assert out.stdout.strip() == "database is up to date"
    assert psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,2,3,4,5,6,7,8,9,10"


def test_schema_invariants_hold():
    import uuid
    cid = str(uuid.uuid4())
    psql(f"INSERT INTO clients (id, expires_at, bytes_limit) VALUES ('{cid}', now() + interval '1 day', 100)")
    for bad in [f"UPDATE clients SET bytes_used = 101 WHERE id = '{cid}'",
                f"INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256, output_format, expires_at, priority) VALUES (gen_random_uuid(), '{cid}', 'a.md', 'md', 'x', 1, repeat('0', 64), 'html', now(), 11)",
                f"INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256, output_format, expires_at, status) VALUES (gen_random_uuid(), '{cid}', 'a.md', 'md', 'x', 1, repeat('0', 64), 'html', now(), 'FAILED')",
                f"INSERT INTO jobs (id, client_id, input_filename, input_format, input_path, input_bytes, input_sha256, output_format, expires_at) VALUES (gen_random_uuid(), '{cid}', 'a.md', 'md', 'x', 101, repeat('0', 64), 'html', now())"]:
        r = subprocess.run(["psql", ENV["DOCFLOW_DATABASE"], "-v", "ON_ERROR_STOP=1", "-qc", bad], capture_output=True, text=True)
        assert r.returncode != 0 and "violates check constraint" in r.stderr, bad
    psql(f"DELETE FROM clients WHERE id = '{cid}'")


def test_docflow_cli_converts_and_lists_formats(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("a,b\n1,x\n")
    subprocess.run([f"{BIN}/docflow", "convert", str(src), str(tmp_path / "t.json")], check=True)
    assert (tmp_path / "t.json").read_text() == '[\n  {"a": 1, "b": "x"}\n]\n'
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'a\n"open\n')
    r = subprocess.run([f"{BIN}/docflow", "convert", str(bad), str(tmp_path / "bad.json")], capture_output=True, text=True)
    assert r.returncode == 2 and "never closed" in r.stderr and not (tmp_path / "bad.json").exists()
    formats = subprocess.run([f"{BIN}/docflow", "formats"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^md\s+Markdown\s+→ extract, html, pdf, txt$", formats, re.M)


def test_nginx_config_passes_nginx_t():
    # As nginx's own user: run as root, `nginx -t` would create its temp folders root's, and
    # every request body past the 1 MB buffer would then fail with a 500.
    r = subprocess.run(["nginx", "-t", "-c", f"{VAR}/nginx/nginx.conf", "-p", f"{VAR}/nginx"], capture_output=True, text=True,
                       user="www-data", group="www-data", extra_groups=[])
    assert r.returncode == 0, r.stderr


def test_health_is_503_while_the_database_is_down_and_recovers():
    pg_bin = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    data = f"{VAR}/data"
    ctl = ["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{pg_bin}/bin/pg_ctl", "-D", data]
    subprocess.run(ctl + ["-m", "fast", "stop"], check=True, capture_output=True)
    try:
        r = requests.get(f"{BASE}/api/health", timeout=10)
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        r = requests.get(f"{BASE}/api/queue", timeout=10)
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
    finally:
        port = ENV["DOCFLOW_DATABASE"].split("port=")[1].split()[0]
        sock = ENV["DOCFLOW_DATABASE"].split("host=")[1].split()[0]
        opts = (f"-k {sock} -p {port} -c listen_addresses='' -c max_connections=200"
                " -c unix_socket_group=docflow -c unix_socket_permissions=0770")  # as scripts/instance starts it
        subprocess.run(ctl + ["-w", "-l", f"{data}/server.log", "-o", opts, "start"],
                       check=True, capture_output=True)
    deadline = time.time() + 10
    while requests.get(f"{BASE}/api/health", timeout=10).status_code != 200:
        assert time.time() < deadline
        time.sleep(0.2)
    # Every fcgi-app thread notices its dead connection and reconnects before use: no request
    # after the recovery gets a 503 (8 threads take turns accepting).
    c = Client()
    statuses = [c.get("/api/queue").status_code for _ in range(15)]
    assert statuses == [200] * 15, statuses


def test_killed_services_are_restarted_and_interrupted_uploads_cleaned():
    """Under scripts/instance (hence scripts/up) fcgi-app and ws-gateway run under
    scripts/supervise: killed, they are back within seconds. fcgi-app removes, at its start, the
    part files of uploads whose process is gone (one killed mid-upload never removed its own)."""
    import signal
    import uuid as _uuid
    tmp = os.path.join(STORAGE, "tmp")
    dead = os.path.join(tmp, f"{_uuid.uuid4()}-upload4000000.part")  # no such pid (pid_max is lower)
    live = os.path.join(tmp, f"{_uuid.uuid4()}-upload1.part")        # pid 1 is alive: not ours to judge
    for p in (dead, live):
        service_write(p, b"half an upload")
    for name, check in (("fcgi-app", f"{BASE}/api/health"), ("ws-gateway", f"http://127.0.0.1:{ENV['DOCFLOW_WS_PORT']}/health")):
        pids = subprocess.run(["pgrep", "-x", "-f", f"{BIN}/{name}"], capture_output=True, text=True).stdout.split()
        assert len(pids) == 1, (name, pids)
        os.kill(int(pids[0]), signal.SIGKILL)
        deadline = time.time() + 10
        while True:
            try:
                if requests.get(check, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, f"{name} was not restarted"
            time.sleep(0.2)
        again = subprocess.run(["pgrep", "-x", "-f", f"{BIN}/{name}"], capture_output=True, text=True).stdout.split()
        assert len(again) == 1 and again != pids
    assert not os.path.exists(dead) and os.path.exists(live)
    os.unlink(live)
    assert "fcgi-app exited (status 137); restarting" in open(f"{VAR}/log/fcgi-app.log").read()


def test_processes_that_do_not_convert_do_not_link_the_converters():
    """fcgi-app, ws-gateway and the janitor link the C-free formats target, not the converters:
    none of poppler, cairo, pango, HarfBuzz, libxlsxwriter, gdk-pixbuf or snappy, under 45 objects
    (fcgi-app and the janitor talk to the object store: libcurl brings eight, nghttp2, ssh2, psl,
    GSSAPI and LDAP among them)."""
    for name in ("fcgi-app", "ws-gateway", "janitor"):
        libs = subprocess.run(["ldd", f"{BIN}/{name}"], capture_output=True, text=True, check=True).stdout.splitlines()
        heavy = [l for l in libs if re.search(r"poppler|cairo|pango|harfbuzz|xlsxwriter|gdk_pixbuf|snappy", l)]
        assert not heavy and len(libs) < 45, (name, len(libs), heavy)
