"""Shared helpers for the integration tests.

They run against a private Doc Flow instance that scripts/test starts (real PostgreSQL, nginx,
fcgi-app, ws-gateway); runners and the janitor are started here as the real binaries. Each
`Client` talks from its own loopback address, so nginx's per-IP rate limit applies per client
exactly as it would for separate users.
"""
import itertools
import json
import os
import pwd
import socket
import subprocess
import time
import uuid

import pytest
import requests
import websocket
from requests.adapters import HTTPAdapter


def _load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                env[k] = v.strip("'")
    return env


ENV = _load_env(os.environ["DOCFLOW_ENV_FILE"])
ROOT = os.environ["DOCFLOW_ROOT"]
BASE = ENV["DOCFLOW_HTTP_URL"]
BIN = ENV["DOCFLOW_BIN"]
STORAGE = ENV["DOCFLOW_STORAGE"]
# The S3 backend keeps objects in a bucket; this host's work folder (tmp/, scratch/) stays local.
S3 = STORAGE.startswith("s3://")
WORK = ENV.get("DOCFLOW_WORK_DIR", STORAGE)
VAR = ENV["DOCFLOW_VAR"]
PROC_ENV = {**os.environ, **ENV}
# Service processes the tests start run as the service user, as cron and scripts/instance start them.
AS_SERVICE = {"user": "docflow", "group": "docflow", "extra_groups": [], "umask": 0o027}
SERVICE_UID = pwd.getpwnam("docflow").pw_uid


def service_makedirs(path):
    """A storage folder as the service would make it: the service user's, 0750."""
    os.makedirs(path, mode=0o750, exist_ok=True)
    os.chown(path, SERVICE_UID, -1)


def service_write(path, data):
    """A storage file as the service would write it: the service user's, 0640."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640), "wb") as f:
        f.write(data)
    os.chown(path, SERVICE_UID, -1)
_addresses = itertools.count(1)


def fresh_address():
    n = next(_addresses)
    return f"127.0.{10 + n // 250}.{1 + n % 250}"


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address, **kw):
        self.address = address
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kw)


class Client:
    """One anonymous user: own loopback address, own cookie jar."""

    def __init__(self):
        self.address = fresh_address()
        self.http = requests.Session()
        self.http.mount("http://", SourceAddressAdapter(self.address))

    @property
    def client_id(self):
        return self.http.cookies.get("client_id")

    def upload(self, name, data, to, priority=None, options=None, headers=None, extra=None):
        fields = {"to": to, **(extra or {})}
        if priority is not None:
            fields["priority"] = str(priority)
        if options is not None:
            fields["options"] = json.dumps(options)
        return self.http.post(f"{BASE}/api/jobs", files={"file": (name, data)}, data=fields,
                              headers=headers or {}, timeout=60)

    def submit(self, name, data, to, **kw):
        """Uploads and returns the new job; fails the test with the server's answer otherwise."""
        r = self.upload(name, data, to, **kw)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def get(self, path, **kw):
        return self.http.get(f"{BASE}{path}", timeout=30, **kw)

    def request(self, method, path, **kw):
        return self.http.request(method, f"{BASE}{path}", timeout=30, **kw)

    def job(self, job_id):
        """The job; waits out the rate limit (polling loops would otherwise meet it)."""
        for _ in range(50):
            r = self.get(f"/api/jobs/{job_id}")
            if r.status_code != 429:
                return r.json()
            time.sleep(0.2)
        raise AssertionError("rate limited for 10 s")

    def wait_status(self, job_id, statuses=("DONE", "FAILED"), timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.15)
        raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")

    def websocket(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.address, 0))
        host, port = BASE.split("//")[1].split(":")
        sock.connect((host, int(port)))
        cookie = f"client_id={self.client_id}" if self.client_id else None
        ws = websocket.create_connection(f"ws://{host}:{port}/ws", socket=sock, cookie=cookie, timeout=20)
        hello = json.loads(ws.recv())
        assert hello["type"] == "connected"
        return ws


def ws_events(ws, until, timeout=20):
    """Events from a socket until `until(event)` is true; returns all of them."""
    events = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        ws.settimeout(max(0.05, deadline - time.time()))
        try:
            event = json.loads(ws.recv())
        except websocket.WebSocketTimeoutException:
            break
        events.append(event)
        if until(event):
            return events
    raise AssertionError(f"expected event not seen; got {[e['type'] for e in events]}")


class StoreView:
    """What the instance's store holds, whatever its backend: the storage folder, or the bucket
    read with botocore (the reference S3 client) and the service's own credential."""

    def __init__(self):
        if S3:
            import botocore.session
            from botocore.config import Config
            creds = dict(line.split(" = ", 1) for line in open(ENV["DOCFLOW_S3_CREDENTIALS_FILE"]).read().splitlines()
                         if " = " in line and not line.startswith("#"))
            self.bucket = STORAGE[len("s3://"):].split("/")[0]
            self.s3 = botocore.session.get_session().create_client(
                "s3", region_name=ENV.get("DOCFLOW_S3_REGION", "us-east-1"), endpoint_url=ENV["DOCFLOW_S3_ENDPOINT"],
                aws_access_key_id=creds["access_key_id"], aws_secret_access_key=creds["secret_access_key"],
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def keys(self, prefix):
        if S3:
            out, token = [], None
            while True:
                kw = {"Bucket": self.bucket, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
                page = self.s3.list_objects_v2(**kw)
                out += [o["Key"] for o in page.get("Contents", [])]
                token = page.get("NextContinuationToken")
                if not token:
                    return sorted(out)
        out = []
        base = os.path.join(STORAGE, os.path.dirname(prefix))
        for dirpath, _, files in os.walk(base):
            for f in files:
                key = os.path.relpath(os.path.join(dirpath, f), STORAGE)
                if key.startswith(prefix):
                    out.append(key)
        return sorted(out)

    def get(self, key):
        if S3:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        with open(os.path.join(STORAGE, key), "rb") as f:
            return f.read()

    def exists(self, key):
        return key in self.keys(key)

    def put(self, key, data):
        """An object as the service would write it."""
        if S3:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
            return
        service_makedirs(os.path.join(STORAGE, os.path.dirname(os.path.dirname(key))))
        service_makedirs(os.path.join(STORAGE, os.path.dirname(key)))
        service_write(os.path.join(STORAGE, key), data)

    def delete(self, key):
        if S3:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        else:
            os.unlink(os.path.join(STORAGE, key))


def psql(sql):
    db = ENV["DOCFLOW_DATABASE"]
    out = subprocess.run(["psql", db, "-v", "ON_ERROR_STOP=1", "-tAqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def start_runner(*args, env=None, log=None):
    """A real job-runner process; its JSON log lines go to `log` (a path) if given."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen([f"{BIN}/job-runner", *args], env={**PROC_ENV, **(env or {})}, stdout=out, stderr=out, **AS_SERVICE)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_janitor(env=None):
    out = subprocess.run([f"{BIN}/janitor"], env={**PROC_ENV, **(env or {})}, capture_output=True, text=True, timeout=60, **AS_SERVICE)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def quiesce():
    """Waits until no job is pending or processing (other tests' jobs included)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if psql("SELECT count(*) FROM jobs WHERE status IN ('PENDING','PROCESSING')") == "0":
            return
        time.sleep(0.2)
    raise AssertionError("queue did not drain")


@pytest.fixture(scope="module")
def runner():
    """A background runner for the module's jobs."""
    procs = [start_runner("--budget", "600")]
    yield procs[0]
    for p in procs:
        stop(p)


@pytest.fixture
def client():
    return Client()
