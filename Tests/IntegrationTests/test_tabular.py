"""Tabular formats against the libraries users know: every output opened by pyarrow, DuckDB, pandas
and openpyxl; every fixture read agrees value by value with what those read from the same input;
round trips keep values and types; jobs through the API carry the table's metadata."""
import codecs
import csv
import glob
import io
import json
import os
import re
import subprocess

import duckdb
import openpyxl
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from conftest import BIN, ROOT
from tabular_peers import disagreements, peer_columns, same

FIX = os.path.join(ROOT, "Tests", "Fixtures")
DOCFLOW = os.path.join(BIN, "docflow")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")

CSV = (
    "id,price,name,active,day,at,zip,big\r\n"
    "1,1.5,alpha,true,2024-01-02,2024-01-02T03:04:05Z,01234,123456789012345678901234\r\n"
    '2,,"be""ta, gamma\nsecond line",false,2024-02-29,2024-01-02T01:04:05.123456Z,00001,5\r\n'
    "3,-2e-10,ünïcødé ✓,TRUE,1999-12-31,,99999,7\r\n"
    ",1e300,,,,1970-01-01T00:00:00Z,,\r\n"
)


def convert(src, dst, *options):
    args = [DOCFLOW, "convert", str(src), str(dst)]
    if options:
        args += ["--options", json.dumps(options[0])]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def flat_parquet_fixtures():
    out = []
    for f in sorted(glob.glob(os.path.join(FIX, "parquet", "*.parquet"))):
        try:
            pq.read_table(f)
        except Exception:  # noqa: BLE001 - peers refuse some on purpose (incorrect_map_schema)
            continue
        out.append(f)
    return out


@pytest.mark.parametrize("path", flat_parquet_fixtures(), ids=os.path.basename)
def test_parquet_fixture_agrees_with_pyarrow(path, tmp_path):
    """Every fixture pyarrow reads, flat or nested (lists, maps, structs as JSON), agrees value by
    value with pyarrow."""
    table = pq.read_table(path, coerce_int96_timestamp_unit="us")
    out = tmp_path / "out.json"
    r = subprocess.run([DOCFLOW, "convert", path, str(out), "--from", "parquet", "--to", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ours = json.loads(out.read_text())
    assert disagreements(ours, peer_columns(table), table.column_names) == []


def xlsx_rows(path, sheet=0):
    """A sheet's rows as Doc Flow reads them: blank rows dropped, except a blank row that has
    cells in the XML (a row of nulls) between rows of data, as pandas keeps it."""
    from openpyxl.cell.read_only import EmptyCell
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    out, pending = [], 0
    for row in wb.worksheets[sheet].iter_rows():
        values = [c.value for c in row]
        if any(v is not None and v != "" for v in values):
            out += [[None] for _ in range(pending)]
            pending = 0
            out.append(values)
        elif out and any(not isinstance(c, EmptyCell) for c in row):
            pending += 1
    return out


def xlsx_agree(ours, theirs):
    import datetime as dt
    if theirs is None or theirs == "":
        return ours is None or ours == ""
    if isinstance(theirs, dt.datetime) and isinstance(ours, str):
        if len(ours) == 10:
            return theirs.time() == dt.time(0) and theirs.date().isoformat() == ours
        return dt.datetime.fromisoformat(ours) == theirs
    if isinstance(theirs, (int, float)) and not isinstance(theirs, bool) and isinstance(ours, str):
        try:
            return float(ours) == float(theirs)
        except ValueError:
            return False
    if isinstance(theirs, bool) and isinstance(ours, str):
        return ours == ("true" if theirs else "false")
    return same(ours, theirs)


# openpyxl leaves OOXML's _xHHHH_ escapes of control characters undecoded and reads _x005F_x005F_
# as "_" where the spec (and Excel) give "_x005F_": the two files that test exactly that.
OPENPYXL_ESCAPES = {"xlsxwriter__shared_strings01.xlsx", "xlsxwriter__shared_strings02.xlsx"}


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(FIX, "xlsx", "*.xlsx"))), ids=os.path.basename)
def test_xlsx_fixture_agrees_with_openpyxl(path, tmp_path):
    try:
        rows = xlsx_rows(path)
    except Exception:  # noqa: BLE001 - openpyxl cannot open strict OOXML: calamine (Rust) can
        from python_calamine import CalamineWorkbook
        sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
        rows = [[None if v == "" else v for v in row] for row in sheet if any(v != "" for v in row)]
        assert rows, "calamine reads no rows either"
    out = tmp_path / "out.json"
    r = subprocess.run([DOCFLOW, "convert", path, str(out), "--to", "json"], capture_output=True, text=True)
    if not rows:
        # An empty first sheet gives way to the first sheet with data, with a warning.
        sheets = len(openpyxl.load_workbook(path, read_only=True).worksheets)
        rows = next((xlsx_rows(path, k) for k in range(1, sheets) if xlsx_rows(path, k)), [])
        if not rows:
            assert r.returncode != 0 and "empty" in r.stderr
            return
        assert "is empty;" in r.stderr and "the first sheet with data, was read" in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    ours = json.loads(out.read_text())
    assert len(ours) == len(rows) - 1
    bad = []
    for i, (o, t) in enumerate(zip(ours, rows[1:])):
        values = list(o.values())
        for c, tv in enumerate(t):
            ov = values[c] if c < len(values) else None
            if not xlsx_agree(ov, tv):
                bad.append(f"row {i} col {c}: ours {ov!r}, openpyxl {tv!r}")
    if os.path.basename(path) in OPENPYXL_ESCAPES:
        assert all("_x" in b for b in bad), bad
    else:
        assert bad == []


@pytest.mark.parametrize("name", ["csvkit__testjson.json", "frictionless__table.keyed.json", "frictionless__table.ndjson",
                                  "csvkit__testjson_multiline.json"])
def test_json_fixture_agrees_with_python_json(name, tmp_path):
    path = os.path.join(FIX, "json", name)
    text = open(path, encoding="utf-8").read()
    try:
        records = json.loads(text)
    except json.JSONDecodeError:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    out = tmp_path / "out.json"
    convert(path, out)
    ours = json.loads(out.read_text())
    assert len(ours) == len(records)
    for o, t in zip(ours, records):
        for k, v in t.items():
            # A blank ("") in a typed column reads as null, as an empty CSV cell does.
            assert same(o[k], v) or (v == "" and o[k] is None), (k, o[k], v)


def test_csv_types_match_pyarrow_on_ordinary_files(tmp_path):
    import sys
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    from tabular import table_csv
    src = tmp_path / "t.csv"
    table_csv(str(src), 2000)
    out = tmp_path / "t.parquet"
    convert(src, out)
    ours, theirs = pq.read_table(out), pacsv.read_csv(str(src))
    assert [str(t) for t in ours.schema.types] == ["int64", "double", "string", "bool", "date32[day]", "int64", "string", "string"]
    assert [str(t) for t in theirs.schema.types] == [str(t) for t in ours.schema.types]
    assert ours.to_pylist() == theirs.to_pylist()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("tab")
    src = d / "sample.csv"
    src.write_text(CSV, encoding="utf-8")
    return src


def test_parquet_output_is_read_by_pyarrow_duckdb_and_pandas(sample, tmp_path):
    for codec in ("snappy", "zstd", "gzip", "none"):
        out = tmp_path / f"s.{codec}.parquet"
        convert(sample, out, {"compression": codec})
        meta = pq.ParquetFile(out).metadata
        assert meta.row_group(0).column(0).compression.lower() == ("uncompressed" if codec == "none" else codec)
        t = pq.read_table(out)
        assert [str(x) for x in t.schema.types] == ["int64", "double", "string", "bool", "date32[day]",
                                                     "timestamp[us, tz=UTC]", "string", "string"]
        rows = t.to_pylist()
        assert rows[1]["name"] == 'be"ta, gamma\nsecond line' and rows[2]["name"] == "ünïcødé ✓"
        assert rows[0]["zip"] == "01234" and rows[0]["big"] == "123456789012345678901234"
        assert rows[1]["at"].microsecond == 123456 and rows[3]["id"] is None and rows[3]["price"] == 1e300
        stats = meta.row_group(0).column(0).statistics
        assert stats.has_min_max and (stats.min, stats.max, stats.null_count) == (1, 3, 1)
        assert duckdb.sql(f"SELECT count(*), sum(id), max(day) FROM '{out}'").fetchone()[:2] == (4, 6)
        df = pd.read_parquet(out)
        assert list(df["name"])[:1] == ["alpha"] and df["active"].tolist()[:3] == [True, False, True]


def test_xlsx_output_is_read_by_openpyxl_and_pandas(sample, tmp_path):
    out = tmp_path / "s.xlsx"
    convert(sample, out)
    ws = openpyxl.load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("id", "price", "name", "active", "day", "at", "zip", "big")
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    assert rows[1][:5] == (1, 1.5, "alpha", True, __import__("datetime").datetime(2024, 1, 2))
    assert ws["E2"].number_format == "yyyy-mm-dd" and rows[1][6] == "01234"
    df = pd.read_excel(out)
    assert df.shape == (4, 8) and df["name"][1] == 'be"ta, gamma\nsecond line'


@pytest.mark.parametrize("via", ["parquet", "xlsx", "json", "jsonl"])
def test_round_trip_through_each_format_keeps_the_csv(sample, tmp_path, via):
    direct = tmp_path / "direct.csv"
    convert(sample, direct)
    mid = tmp_path / f"mid.{via}"
    convert(sample, mid)
    back = tmp_path / "back.csv"
    convert(mid, back)
    a = list(csv.reader(io.StringIO(direct.read_text(encoding="utf-8"))))
    b = list(csv.reader(io.StringIO(back.read_text(encoding="utf-8"))))
    if via == "xlsx":
        # Excel keeps milliseconds, and writes the zoned instants as their UTC wall time.
        a = [[c.replace(".123456", ".123").replace("Z", "") if i == 5 else c for i, c in enumerate(r)] for r in a]
    assert a == b


def test_tabular_jobs_through_the_api(runner, client):
    job = client.wait_status(client.submit("sample.csv", CSV.encode(), "parquet")["id"])
    assert job["status"] == "DONE", job
    assert job["metadata"]["rows"] == 4 and job["metadata"]["columns"] == 8
    dl = client.get(job["download_url"])
    assert dl.headers["Content-Type"] == "application/vnd.apache.parquet"
    t = pq.read_table(io.BytesIO(dl.content))
    assert t.num_rows == 4 and t.column("id").to_pylist() == [1, 2, 3, None]
    # And back: the Parquet file uploaded, converted to an Excel workbook, its sheet listed.
    back = client.wait_status(client.submit("sample.parquet", dl.content, "xlsx")["id"])
    assert back["status"] == "DONE", back
    xl = client.get(back["download_url"]).content
    again = client.wait_status(client.submit("book.xlsx", xl, "jsonl")["id"])
    assert again["status"] == "DONE" and again["metadata"]["sheets"] == ["data"], again
    lines = client.get(again["download_url"]).text.splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["name"] == "alpha"
    bomb = open(os.path.join(FIX, "hostile", "poi__poc-shared-strings.xlsx"), "rb").read()
    failed = client.wait_status(client.submit("bomb.xlsx", bomb, "csv")["id"])
    assert failed["status"] == "FAILED" and failed["error"]["code"] == "too_large", failed
    bad = client.upload("x.csv", b"a\n1\n", "parquet", options={"compression": "lzo"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_options" and "compression" in bad.json()["error"]["message"]


# Started from a small Python of its own: Linux counts a child's peak from the memory it was forked
# with, and this test process holds hundreds of MB by now (pyarrow, the corpus sweeps).
PEAK = ("import os, subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "print(usage.ru_maxrss)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n")


def peak_mib(args):
    """Runs a command; its peak resident size in MiB (wait4's ru_maxrss for that process alone)."""
    r = subprocess.run(["python3", "-c", PEAK, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1]) / 1024


def test_streamed_conversions_keep_memory_flat_as_files_grow(tmp_path):
    """CSV, JSON and Parquet convert batch by batch from a mapped input (131,072 rows a batch, two
    at a time on two cores): the peak settles after a few batches (1M and 3M rows within 5 MiB,
    bench/README.md). Here 300k → 1M rows may add at most 50 MiB — holding the table whole added
    about 250 (1M rows took 320–480 MiB). The outputs are checked too: row counts, first and last
    rows."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import tabular  # the benchmark's seeded generator (8 columns, ~90 bytes a row)
    peaks = {}
    for rows in (300_000, 1_000_000):
        src = tmp_path / f"t{rows}.csv"
        tabular.table_csv(str(src), rows)
        pq_out, json_out = tmp_path / f"t{rows}.parquet", tmp_path / f"t{rows}.json"
        back_csv, back_json = tmp_path / f"b{rows}.csv", tmp_path / f"b{rows}.csv.json"
        peaks[rows] = {
            "csv→parquet": peak_mib([DOCFLOW, "convert", str(src), str(pq_out)]),
            "parquet→csv": peak_mib([DOCFLOW, "convert", str(pq_out), str(back_csv)]),
            "csv→json": peak_mib([DOCFLOW, "convert", str(src), str(json_out)]),
            "json→csv": peak_mib([DOCFLOW, "convert", str(json_out), str(back_json), "--to", "csv"]),
        }
        t = pq.read_table(pq_out)
        assert t.num_rows == rows and pq.ParquetFile(pq_out).metadata.num_row_groups == (rows + 131_071) // 131_072
        first = src.read_text().splitlines()[1]
        with open(back_csv, encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert len(lines) == rows + 1 and lines[1].split(",")[0] == first.split(",")[0] == "0"
        assert lines[-1].split(",")[0] == str(rows - 1)
        assert back_json.read_bytes() == back_csv.read_bytes()
        for f in (src, pq_out, json_out, back_csv, back_json):
            f.unlink()
    for pair in peaks[300_000]:
        small, large = peaks[300_000][pair], peaks[1_000_000][pair]
        assert large < 180, (pair, peaks)
        assert large - small < 50, (pair, peaks)


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="../shared/corpus is not beside this checkout")
def test_corpus_tabular_sweep(tmp_path):
    """Every CSV, JSON, XLSX and Parquet file of the shared corpus converts to every other tabular
    format, or is refused with a message; nothing crashes or hangs."""
    outcomes = {"ok": 0, "refused": 0}
    for folder in ("csv", "json", "xlsx", "parquet"):
        for path in sorted(glob.glob(os.path.join(CORPUS, folder, "*"))):
            if path.endswith((".md", ".docling.md")):
                continue
            for to in ("csv", "parquet", "xlsx", "json"):
                out = tmp_path / f"o.{to}"
                r = subprocess.run([DOCFLOW, "convert", path, str(out), "--from", folder, "--to", to],
                                   capture_output=True, text=True, timeout=120)
                assert r.returncode in (0, 2), (path, to, r.returncode, r.stderr[-300:])
                if r.returncode == 0:
                    outcomes["ok"] += 1
                else:
                    assert r.stderr.strip(), (path, to)
                    outcomes["refused"] += 1
    assert outcomes["ok"] > 300, outcomes


def csv_files():
    files = sorted(glob.glob(os.path.join(FIX, "csv", "*.csv")))
    if os.path.isdir(CORPUS):
        files += sorted(glob.glob(os.path.join(CORPUS, "csv", "*.csv")) + glob.glob(os.path.join(CORPUS, "csv", "*.tsv")))
    return files


def cell_agrees(ours, text):
    """Our typed JSON value against pandas' text of the same cell (None where a row is short)."""
    text = "" if text is None else text
    if ours is None:
        return text == ""
    if isinstance(ours, bool):
        return text.lower() == str(ours).lower()
    if isinstance(ours, (int, float)):
        try:
            return float(text) == float(ours)
        except ValueError:
            return False
    if isinstance(ours, str) and ours != text and text[:10] == ours[:10] and len(text) > 10:
        # Timestamps are written back in ISO 8601 (T, Z, UTC): compare the instants.
        import datetime as dt
        try:
            a = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            b = dt.datetime.fromisoformat(ours.replace("Z", "+00:00"))
            return a == b or a.replace(tzinfo=None) == b.replace(tzinfo=None)
        except ValueError:
            return False
    return ours == text


# The files we refuse on purpose, with the reason the refusal must name; any other refusal fails.
CSV_REFUSALS = {"csvkit__null_byte.csv": "NUL bytes", "csvkit__empty.csv": "empty"}
# Windows-1252 as our reader and browsers read it: its five undefined bytes are C1 controls.
codecs.register_error("c1", lambda e: ("".join(chr(b) for b in e.object[e.start:e.end]), e.end))


@pytest.mark.parametrize("path", csv_files(), ids=os.path.basename)
def test_csv_values_agree_with_pandas(path, tmp_path):
    """pandas reads every cell as text, told the delimiter and the encoding our reader found (its
    warning names it; Python's codec of that name decodes) and as many columns as the widest row
    (ragged rows padded, as ours are); each of our typed values says the same as its text, and our
    column names are its first row's."""
    name = os.path.basename(path)
    out = tmp_path / "o.json"
    r = subprocess.run([DOCFLOW, "convert", path, str(out), "--from", "csv", "--to", "json", "--options", '{"header": true}'],
                       capture_output=True, text=True)
    if name in CSV_REFUSALS:
        assert r.returncode == 2 and CSV_REFUSALS[name] in r.stderr, (r.returncode, r.stderr)
        return
    assert r.returncode == 0, r.stderr
    ours = json.loads(out.read_text())
    meta = json.loads(subprocess.run([DOCFLOW, "inspect", path], capture_output=True, text=True, check=True).stdout)
    found = re.search(r"read as ([A-Za-z0-9_-]+)[.,]", r.stderr)
    with open(path, "rb") as f:
        data = f.read()
    encoding = found[1] if found else "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    text = data.decode(encoding, errors="c1" if codecs.lookup(encoding).name == "cp1252" else "strict")
    # Classic Mac OS line ends: only pandas' C engine takes \r as the line terminator.
    lines = {"engine": "c", "lineterminator": "\r"} if "\n" not in text else {"engine": "python"}
    peer = pd.read_csv(io.StringIO(text), sep=meta["delimiter"], dtype=str, keep_default_na=False, header=None,
                       names=list(range(meta["columns"])), skip_blank_lines=True, **lines)
    header, body = [h or "" for h in peer.iloc[0].tolist()], peer.iloc[1:]
    assert len(ours) == len(body), (len(ours), peer.shape)
    if ours and len(set(header)) == len(header):  # (duplicate names are made unique: _2, _3 …)
        assert list(ours[0]) == [h or f"column_{c + 1}" for c, h in enumerate(header)]
    bad = []
    for i, row in enumerate(ours):
        assert len(row) == meta["columns"]
        for c, (ov, tv) in enumerate(zip(row.values(), body.iloc[i].tolist())):
            if not cell_agrees(ov, tv):
                bad.append(f"row {i} col {c}: ours {ov!r}, pandas {tv!r}")
    assert bad[:10] == []
