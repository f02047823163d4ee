"""Inputs at the edges of each format's sizes and counts, to every target: huge fields, huge column
counts, row counts past a sheet, deep nesting. Each conversion either succeeds or is refused with
a readable reason (exit 2 and a message); none may crash (a signal) or hang. Two of these crashed
the converter before (a 2 MiB field → PDF: the glyph advances overflowed Int32; 100,000 columns →
XLSX: a column index past libxlsxwriter's 16-bit type). Run through `docflow convert`, which is
the converters' own code without the queue; one case also goes through the service."""
import json
import os
import subprocess

import pytest

from conftest import BIN, Client

MIB = 1 << 20


def csv_big_field():
    return b"name,value\n" + b"x" * (2 * MIB) + b",1\nshort,2\n"


def csv_wide(n):
    return (",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(str(i % 10) for i in range(n)) + "\n").encode()


def csv_rows(n):
    return b"n\n" + b"".join(b"%d\n" % i for i in range(n))


def md_big_word():
    return b"# big\n\n" + b"y" * (2 * MIB) + b"\n"


def md_wide_table(n):
    head = "|" + "|".join(f"h{i}" for i in range(n)) + "|\n"
    rule = "|" + "|".join("-" for _ in range(n)) + "|\n"
    row = "|" + "|".join("1" for _ in range(n)) + "|\n"
    return (head + rule + row).encode()


def txt_big_line():
    return b"z" * (2 * MIB) + b"\n"


def html_deep(n):
    return b"<html><body>" + b"<div>" * n + b"deep" + b"</div>" * n + b"</body></html>"


def json_wide(n):
    return json.dumps([{f"k{i}": i for i in range(n)}]).encode()


def json_big_string():
    return json.dumps([{"s": "w" * (2 * MIB), "n": 1}]).encode()


TABLE_TARGETS = {"csv", "html", "json", "jsonl", "md", "parquet", "pdf", "txt", "xlsx"}


def made(fmt, csv_bytes):
    """A file of `fmt` made by our own writer from CSV."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "in.csv"), os.path.join(d, f"out.{fmt}")
        with open(src, "wb") as f:
            f.write(csv_bytes)
        subprocess.run([f"{BIN}/docflow", "convert", src, out], check=True, capture_output=True, timeout=120)
        with open(out, "rb") as f:
            return f.read()


# (name, file name, bytes, targets). Row counts past XLSX's 1,048,576 rows per sheet only go to the
# tabular targets: as PDF or HTML they would be tens of thousands of pages (not an edge of the code).
CASES = [
    ("csv 2 MiB field", "big.csv", csv_big_field, ["pdf", "xlsx", "json", "jsonl", "parquet", "html", "md", "txt"]),
    ("csv 100,000 columns", "wide.csv", lambda: csv_wide(100_000), ["xlsx", "json", "jsonl", "parquet", "html", "md", "txt", "pdf"]),
    ("csv 16,384 columns", "w16384.csv", lambda: csv_wide(16_384), ["xlsx"]),
    ("csv 16,385 columns", "w16385.csv", lambda: csv_wide(16_385), ["xlsx"]),
    ("csv 1,048,577 rows", "rows.csv", lambda: csv_rows(1_048_577), ["xlsx", "parquet", "json"]),
    ("md 2 MiB word", "big.md", md_big_word, ["pdf", "html", "txt"]),
    ("md 5,000-column table", "wide.md", lambda: md_wide_table(5_000), ["pdf", "html", "txt"]),
    ("txt 2 MiB line", "big.txt", txt_big_line, ["pdf", "html", "md"]),
    ("html 250 nested divs", "d250.html", lambda: html_deep(250), ["md", "txt", "pdf"]),
    ("html 100,000 nested divs", "deep.html", lambda: html_deep(100_000), ["md", "txt", "pdf"]),
    ("json 20,000 keys", "wide.json", lambda: json_wide(20_000), TABLE_TARGETS - {"json"}),
    ("json 2 MiB string", "big.json", json_big_string, TABLE_TARGETS - {"json"}),
    # The binary table formats' readers, on files our writers made at the same edges.
    ("xlsx 16,384 columns", "w.xlsx", lambda: made("xlsx", csv_wide(16_384)), TABLE_TARGETS - {"xlsx"}),
    ("xlsx 2 MiB field", "big.xlsx", lambda: made("xlsx", csv_big_field()), TABLE_TARGETS - {"xlsx"}),
    ("parquet 100,000 columns", "wide.parquet", lambda: made("parquet", csv_wide(100_000)), TABLE_TARGETS - {"parquet"}),
    ("parquet 2 MiB field", "big.parquet", lambda: made("parquet", csv_big_field()), TABLE_TARGETS - {"parquet"}),
]

# Conversions that must be refused, with the words a user would need.
REFUSED = {("csv 100,000 columns", "xlsx"): "at most 16384 columns",
           ("parquet 100,000 columns", "xlsx"): "at most 16384 columns",
           ("csv 16,385 columns", "xlsx"): "at most 16384 columns",
           ("json 20,000 keys", "xlsx"): "at most 16384 columns",
           }
# Converted with a warning that says what was not carried over (the CLI prints warnings).
WARNED = {("html 100,000 nested divs", to): "more than 256 levels deep" for to in ("md", "txt", "pdf")}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_edge_inputs_convert_or_are_refused_without_a_crash(case, tmp_path):
    name, filename, make, targets = case
    src = tmp_path / filename
    src.write_bytes(make())
    for to in sorted(targets):
        out = tmp_path / f"out.{to}"
        r = subprocess.run([f"{BIN}/docflow", "convert", str(src), str(out)], capture_output=True, text=True, timeout=240)
        assert r.returncode >= 0, f"{name} → {to}: killed by signal {-r.returncode}"
        refusal = REFUSED.get((name, to))
        if refusal:
            assert r.returncode == 2 and refusal in r.stderr, (name, to, r.returncode, r.stderr[-300:])
            assert not out.exists()
        else:
            assert r.returncode == 0, (name, to, r.returncode, r.stderr[-300:])
            assert out.stat().st_size > 0 or (name, to) in WARNED
            if (name, to) in WARNED:
                assert WARNED[(name, to)] in r.stderr, (name, to, r.stderr[-300:])
        if out.exists():
            out.unlink()


def test_the_two_former_crashes_through_the_service(runner):
    c = Client()
    pdf = c.submit("big.csv", csv_big_field(), "pdf")
    xlsx = c.submit("wide.csv", csv_wide(100_000), "xlsx")
    done = c.wait_status(pdf["id"], timeout=120)
    # Done, and no attempt crashed: its history says how each attempt ended (two CI runs saw it done
    # at attempt 2 under load, the first attempt's end unexplained by this test until the history).
    history = c.get(f"/api/jobs/{pdf['id']}/events").json()["events"]
    crashed = [e for e in history if e["kind"] in ("retried", "failed") and e.get("code") == "converter_crashed"]
    assert done["status"] == "DONE" and not crashed, (done, history)
    if done["attempt"] != 1:
        print("big field → PDF took", done["attempt"], "attempts:", [(e["kind"], e.get("code")) for e in history])
    refused = c.wait_status(xlsx["id"], timeout=60)
    assert refused["status"] == "FAILED" and refused["attempt"] == 1  # refused once, not retried as a crash
    assert refused["error"]["code"] == "too_large" and "16384 columns" in refused["error"]["message"]
