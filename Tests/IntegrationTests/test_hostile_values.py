"""Values PostgreSQL's text and jsonb refuse (NUL, lone surrogate halves) and other garbage, in
every field and header the API reads: each is a 4xx with a JSON error, and nothing of the request
is left behind (no client row, no folder). Before the fix `{"delimiter": "\\u0000"}` gave a 500
(SQLSTATE 22P05) and left a client row and an empty input folder."""
import json
import os
import shutil
import uuid

import pytest
import requests

from conftest import BASE, STORAGE, Client, psql

BAD_STRINGS = ["\u0000", "a\u0000b", "\ud800", "\udc00x", "\x01\x02\x7f"]


def counts():
    return (psql("SELECT count(*) FROM clients"), sorted(os.listdir(os.path.join(STORAGE, "input"))))


def assert_json_4xx(r, *codes):
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    body = r.json()
    assert "error" in body and body["error"]["code"], body
    if codes:
        assert body["error"]["code"] in codes, body


@pytest.mark.parametrize("value", BAD_STRINGS, ids=["nul", "inner-nul", "high-surrogate", "low-surrogate", "controls"])
def test_bad_option_values_and_keys_are_400_and_leave_nothing(value):
    before = counts()
    for options in ({"delimiter": value}, {value: ","}, {"nested": {"x": [value]}}):
        c = Client()
        text = json.dumps(options)  # \u escapes, as a browser's JSON.stringify sends them
        r = c.http.post(f"{BASE}/api/jobs", files={"file": ("a.csv", b"a,b\n1,2\n")},
                        data={"to": "json", "options": text}, timeout=30)
        if value == "\x01\x02\x7f":
            # Control characters other than NUL are storable text: accepted (the converter then
            # judges the option), never a 500.
            assert r.status_code in (201, 400), r.text
            if r.status_code == 201:
                c.request("DELETE", f"/api/jobs/{r.json()['id']}")
                psql(f"DELETE FROM clients WHERE id = '{c.client_id}'")
                shutil.rmtree(os.path.join(STORAGE, "input", c.client_id), ignore_errors=True)
            continue
        assert_json_4xx(r, "bad_options")
        assert "client_id" not in r.cookies
    assert counts() == before


def test_raw_nul_bytes_in_options_and_fields_are_400():
    before = counts()
    c = Client()
    for fields in ({"to": "json", "options": '{"delimiter": "\x00"}'}, {"to": "js\x00on"}, {"to": "json", "priority": "5\x00"},
                   {"to": "json", "from": "c\x00sv"}, {"to": "json", "options": '{"a": "\\ud800"}'}):
        r = c.http.post(f"{BASE}/api/jobs", files={"file": ("a.csv", b"a,b\n1,2\n")}, data=fields, timeout=30)
        assert_json_4xx(r)
    # The file name: control characters are dropped, a name of nothing but them is refused.
    r = c.http.post(f"{BASE}/api/jobs", files={"file": ("\x00\x01", b"a,b\n1,2\n")}, data={"to": "json"}, timeout=30)
    assert_json_4xx(r, "bad_filename", "unsupported_format")
    # Raw-body uploads read the same fields from the query string.
    r = c.http.post(f"{BASE}/api/jobs?filename=a%00.csv&to=json%00", data=b"a,b\n1,2\n", timeout=30)
    assert_json_4xx(r)
    assert counts() == before


def test_bad_idempotency_keys_are_400():
    before = counts()
    c = Client()
    for key in ["a\x01b", "x" * 256, "with space", "caf\u00e9"]:
        try:
            r = c.http.post(f"{BASE}/api/jobs", files={"file": ("a.csv", b"a,b\n1,2\n")}, data={"to": "json"},
                            headers={"Idempotency-Key": key.encode("utf-8")}, timeout=30)
        except requests.exceptions.InvalidHeader:
            continue  # the client library refuses to send it at all
        assert_json_4xx(r, "bad_idempotency_key")
    assert counts() == before


def test_garbage_in_list_queries_and_patch_bodies_is_400():
    c = Client()
    job = c.submit("a.md", b"# a\n", "html")
    for query in ["status=DONE%00", "limit=1%00", "order=asc%00", "cursor=9999-99-99T99:99:99.999999Z_" + str(uuid.uuid4()),
                  "cursor=2026-01-01T00:00:00.000000Z_%00", "cursor=%ef%bc%91%ef%bc%92_" + str(uuid.uuid4())]:
        r = c.get(f"/api/jobs?{query}")
        assert_json_4xx(r)
    for body in ['{"priority": "5\\u0000"}', '{"priority": 5, "\\u0000": 1}', '{"priority": "\\ud800"}', "\x00"]:
        r = c.request("PATCH", f"/api/jobs/{job['id']}", data=body.encode(), headers={"Content-Type": "application/json"})
        assert r.status_code in (200, 400), (body, r.status_code, r.text)
        if r.status_code == 400:
            assert_json_4xx(r)
    # Cookies: a malformed client id is no client at all (a fresh one would be made on upload).
    for cookie in ["client_id=\x01", f"client_id={job['id']}\x00", "client_id=" + "9" * 5000]:
        try:
            r = requests.get(f"{BASE}/api/jobs", headers={"Cookie": cookie}, timeout=30)
        except requests.exceptions.InvalidHeader:
            continue
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            assert r.json()["jobs"] == []
        else:
            assert_json_4xx(r)
