"""Issue 15, tables: nothing lost silently. Each case is a file made here with pyarrow (or taken
from Tests/Fixtures) and checked against what pyarrow, DuckDB, pandas and openpyxl read from our
output: NaN kept where the target has it, all-null rows kept, shortest exact floats, one encoding
for binary columns, nested columns as JSON, empty CSV fields as null, encrypted files named."""
import base64
import csv
import json
import os
import subprocess

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import BIN, ROOT

FIX = os.path.join(ROOT, "Tests", "Fixtures")
DOCFLOW = os.path.join(BIN, "docflow")


def convert(src, dst, options=None, ok=True):
    args = [DOCFLOW, "convert", str(src), str(dst)]
    if options:
        args += ["--options", json.dumps(options)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def csv_cells(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def xlsx_cells(path):
    ws = openpyxl.load_workbook(path).worksheets[0]
    return [[c.value for c in row] for row in ws.iter_rows()]


@pytest.fixture
def floats(tmp_path):
    path = tmp_path / "floats.parquet"
    pq.write_table(pa.table({
        "d": pa.array([float("nan"), 10.196776096656958, float("inf"), None, -0.1, float("-inf")], pa.float64()),
        "f": pa.array([1.1, 0.1, None, 3.0, 1e-7, 16777217.0], pa.float32()),
    }), path)
    return path


def test_nan_and_infinities_are_kept_where_the_target_has_them(floats, tmp_path):
    # CSV: NaN, inf, -inf as text (pandas and DuckDB read them back as such); null stays empty.
    convert(floats, tmp_path / "o.csv")
    rows = csv_cells(tmp_path / "o.csv")
    assert [r[0] for r in rows[1:]] == ["NaN", "10.196776096656958", "inf", "", "-0.1", "-inf"]
    back = duckdb.sql(f"SELECT d FROM read_csv('{tmp_path / 'o.csv'}')").fetchall()
    assert str(back[0][0]) == "nan" and back[2][0] == float("inf") and back[3][0] is None
    # Parquet → CSV → Parquet keeps NaN as NaN (not null).
    convert(tmp_path / "o.csv", tmp_path / "back.parquet")
    d = pq.read_table(tmp_path / "back.parquet").column("d").to_pylist()
    assert d[0] != d[0] and d[2] == float("inf") and d[3] is None and d[5] == float("-inf")
    # Parquet → Parquet: NaN stays NaN.
    convert(floats, tmp_path / "o.parquet")
    d = pq.read_table(tmp_path / "o.parquet").column("d").to_pylist()
    assert d[0] != d[0] and d[3] is None
    # JSON has no NaN: null, and the job says so.
    r = convert(floats, tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text())[0]["d"] is None
    assert "3 NaN or infinite value(s) became null" in r.stderr
    # XLSX numbers cannot hold them: the text, with a warning.
    r = convert(floats, tmp_path / "o.xlsx")
    cells = xlsx_cells(tmp_path / "o.xlsx")
    assert [row[0] for row in cells[1:]] == ["NaN", 10.196776096656958, "inf", None, -0.1, "-inf"]
    assert "written as the text NaN" in r.stderr


def test_xlsx_doubles_keep_all_17_digits(floats, tmp_path):
    """libxlsxwriter prints numbers with %.16G; doubles that need 17 digits are written exactly
    all the same (marked cells rewritten after the workbook is closed), as numbers."""
    convert(floats, tmp_path / "o.xlsx")
    assert xlsx_cells(tmp_path / "o.xlsx")[2][0] == 10.196776096656958
    import random
    rnd = random.Random(15)
    values = [rnd.uniform(-1e6, 1e6) for _ in range(5000)] + [0.1 + 0.2, 1 / 3, 2 ** 0.5, 1e-300 / 3, 5e-324, 1.7976931348623157e308]
    src = tmp_path / "many.parquet"
    pq.write_table(pa.table({"x": values, "note": ["_x0001_abc:1.5"] * len(values)}), src)
    r = convert(src, tmp_path / "many.xlsx")
    cells = xlsx_cells(tmp_path / "many.xlsx")[1:]
    assert [row[0] for row in cells] == values
    assert all(isinstance(row[0], float) for row in cells)
    assert {row[1] for row in cells} == {"\x01abc:1.5"} or {row[1] for row in cells} == {"_x0001_abc:1.5"}
    import pandas as pd
    assert pd.read_excel(tmp_path / "many.xlsx")["x"].tolist() == values
    # And back through our own reader.
    convert(tmp_path / "many.xlsx", tmp_path / "back.json")
    assert [r["x"] for r in json.loads((tmp_path / "back.json").read_text())] == values


def test_floats_print_as_their_shortest_text(floats, tmp_path):
    convert(floats, tmp_path / "o.csv")
    rows = csv_cells(tmp_path / "o.csv")
    assert [r[1] for r in rows[1:]] == ["1.1", "0.1", "", "3.0", "1e-07", "16777216.0"]
    # DuckDB prints FLOAT the same way.
    duck = duckdb.sql(f"SELECT f::VARCHAR FROM '{floats}'").fetchall()
    assert [v[0] for v in duck][:2] == ["1.1", "0.1"]
    convert(floats, tmp_path / "o.xlsx")
    assert [row[1] for row in xlsx_cells(tmp_path / "o.xlsx")[1:3]] == [1.1, 0.1]


def test_rows_of_nulls_are_kept_in_every_target(tmp_path):
    src = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"a": [1, None, 3, None], "b": ["x", None, "z", None]}), src)
    for to in ("csv", "json", "xlsx", "parquet"):
        convert(src, tmp_path / f"o.{to}")
    assert len(csv_cells(tmp_path / "o.csv")) == 5
    assert len(json.loads((tmp_path / "o.json").read_text())) == 4
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 4
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").worksheets[0]
    assert ws.max_row == 5, [[c.value for c in r] for r in ws.iter_rows()]
    # And back: the XLSX reader keeps the one between rows of data; the last is dropped, as
    # pandas drops trailing blank rows.
    convert(tmp_path / "o.xlsx", tmp_path / "back.json")
    assert json.loads((tmp_path / "back.json").read_text()) == [{"a": 1, "b": "x"}, {"a": None, "b": None}, {"a": 3, "b": "z"}]
    import pandas as pd
    assert len(pd.read_excel(tmp_path / "o.xlsx")) == 3


def test_binary_columns_are_base64_in_every_text_target(tmp_path):
    src = tmp_path / "bin.parquet"
    values = [b"\x00\x01\x02", b"plain text", None, b"\xff\xfe", b""]
    pq.write_table(pa.table({"blob": pa.array(values, pa.binary())}), src)
    expect = [None if v is None else base64.b64encode(v).decode() for v in values]
    convert(src, tmp_path / "o.json")
    assert [r["blob"] for r in json.loads((tmp_path / "o.json").read_text())] == expect
    convert(src, tmp_path / "o.csv")
    # (a null in a one-column CSV is an empty line)
    assert [r[0] if r else None for r in csv_cells(tmp_path / "o.csv")[1:]] == expect
    convert(src, tmp_path / "o.xlsx")
    assert [r[0] for r in xlsx_cells(tmp_path / "o.xlsx")[1:]] == [e or None for e in expect]
    # Parquet keeps the bytes themselves.
    convert(src, tmp_path / "o.parquet")
    back = pq.read_table(tmp_path / "o.parquet")
    assert back.schema.field("blob").type == pa.binary()
    assert back.column("blob").to_pylist() == values


def test_legacy_text_in_unannotated_binary_stays_text(tmp_path):
    """Old writers (Impala, Hive) store strings as BYTE_ARRAY without annotation: text stays text."""
    fixture = os.path.join(FIX, "parquet", "parquet-testing__alltypes_plain.parquet")
    convert(fixture, tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text())[0]["string_col"] == "0"


def test_nested_columns_are_json(tmp_path):
    src = tmp_path / "nested.parquet"
    table = pa.table({
        "id": [1, 2, 3],
        "tags": pa.array([["a", "b"], [], None], pa.list_(pa.string())),
        "point": pa.array([{"x": 1.5, "y": None}, None, {"x": 0.0, "y": 2}], pa.struct([("x", pa.float64()), ("y", pa.int64())])),
        "attrs": pa.array([[("k", 1)], None, [("a", 2), ("b", None)]], pa.map_(pa.string(), pa.int64())),
    })
    pq.write_table(table, src)
    expect = [
        {"id": 1, "tags": ["a", "b"], "point": {"x": 1.5, "y": None}, "attrs": {"k": 1}},
        {"id": 2, "tags": [], "point": None, "attrs": None},
        {"id": 3, "tags": None, "point": {"x": 0.0, "y": 2}, "attrs": {"a": 2, "b": None}},
    ]
    convert(src, tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text()) == expect
    convert(src, tmp_path / "o.jsonl")
    assert [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()] == expect
    # CSV and XLSX: the JSON text in the cell.
    convert(src, tmp_path / "o.csv")
    rows = csv_cells(tmp_path / "o.csv")
    assert json.loads(rows[1][1]) == ["a", "b"] and json.loads(rows[3][2]) == {"x": 0.0, "y": 2} and rows[2][2] == ""
    convert(src, tmp_path / "o.xlsx")
    cells = xlsx_cells(tmp_path / "o.xlsx")
    assert json.loads(cells[1][3]) == {"k": 1} and cells[2][3] is None
    # Parquet: JSON text under Parquet's JSON type, and the job says so.
    r = convert(src, tmp_path / "o.parquet")
    assert "written as JSON text" in r.stderr and "“tags”" in r.stderr
    back = pq.read_table(tmp_path / "o.parquet")
    assert [None if v is None else json.loads(v) for v in back.column("attrs").to_pylist()] == [e["attrs"] for e in expect]
    assert pq.ParquetFile(tmp_path / "o.parquet").schema.column(1).logical_type.type == "JSON"


def test_empty_csv_fields_are_null_and_quoted_empty_strings_are_kept(tmp_path):
    src = tmp_path / "e.csv"
    src.write_text('id,name,n,blank\n1,,5,\n2,"",,\n3,x,7,\n')
    convert(src, tmp_path / "o.parquet")
    ours = pq.read_table(tmp_path / "o.parquet").to_pydict()
    assert ours["name"] == [None, "", "x"]
    assert ours["n"] == [5, None, 7]
    assert ours["blank"] == [None, None, None]
    # DuckDB reads the unquoted empty fields as NULL too.
    duck = duckdb.sql(f"SELECT name, blank FROM read_csv('{src}', all_varchar=true)").fetchall()
    assert duck[0] == (None, None)
    # The option keeps every empty field of a text column as an empty string.
    convert(src, tmp_path / "k.parquet", {"keep_empty_strings": True})
    kept = pq.read_table(tmp_path / "k.parquet").to_pydict()
    assert kept["name"] == ["", "", "x"] and kept["n"] == [5, None, 7]
    # CSV → CSV keeps the difference: null is empty, an empty string is "".
    convert(src, tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[1:3] == ["1,,5,", '2,"",,']


def test_encrypted_parquet_is_named_as_such(tmp_path):
    fixture = os.path.join(FIX, "parquet", "parquet-testing__encrypt_columns_plaintext_footer.parquet.encrypted")
    r = subprocess.run([DOCFLOW, "convert", fixture, str(tmp_path / "o.json"), "--from", "parquet"], capture_output=True, text=True)
    assert r.returncode == 2 and "encrypted" in r.stderr and "nested" not in r.stderr, r.stderr


@pytest.mark.parametrize("name,to,says", [
    ("poi__protected_passtika.xlsx", "csv", "encrypted"),
    ("poi__bug53475-password-is-pass.docx", "md", "encrypted"),
    ("csvkit__dummy.xls", "csv", "legacy binary Office file"),
])
def test_office_files_doc_flow_cannot_read_are_named(name, to, says, tmp_path):
    src = os.path.join(FIX, "hostile", name)
    fmt = "xlsx" if to == "csv" else "docx"
    r = subprocess.run([DOCFLOW, "convert", src, str(tmp_path / f"o.{to}"), "--from", fmt], capture_output=True, text=True)
    assert r.returncode == 2 and says in r.stderr and "zip" not in r.stderr, r.stderr


def test_opendocument_is_named(tmp_path):
    import zipfile
    src = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    r = subprocess.run([DOCFLOW, "convert", str(src), str(tmp_path / "o.csv")], capture_output=True, text=True)
    assert r.returncode == 2 and "OpenDocument file (spreadsheet)" in r.stderr, r.stderr


def test_gzip_input_is_read_transparently(tmp_path):
    import gzip
    src = tmp_path / "data.csv.gz"
    # Two gzip members, as `cat a.gz b.gz` makes: both are read.
    src.write_bytes(gzip.compress(b"id,name\n1,alpha\n") + gzip.compress(b"2,beta\n"))
    convert(src, tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text()) == [{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta"}]
    doc = tmp_path / "notes.md.gz"
    doc.write_bytes(gzip.compress(b"# Title\n\nSome *text*.\n"))
    convert(doc, tmp_path / "notes.html")
    assert "<h1" in (tmp_path / "notes.html").read_text()
    # Within the limits: a gzip bomb (1 GiB of zeros in ~1 MB) is refused as such.
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        block = b"\0" * (1 << 20)
        for _ in range(80):
            f.write(block)
    r = subprocess.run([DOCFLOW, "convert", str(bomb), str(tmp_path / "b.json")], capture_output=True, text=True)
    assert r.returncode == 2 and "gzip bomb" in r.stderr, r.stderr
    # A truncated gzip file is a clear error too.
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(src.read_bytes()[:20])
    r = subprocess.run([DOCFLOW, "convert", str(cut), str(tmp_path / "c.json")], capture_output=True, text=True)
    assert r.returncode == 2 and "gzip file is damaged" in r.stderr, r.stderr


def test_an_empty_first_sheet_gives_way_to_the_first_with_data(tmp_path):
    src = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    data = wb.create_sheet("Data")
    data.append(["a", "b"])
    data.append([1, "x"])
    wb.save(src)
    r = convert(src, tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text()) == [{"a": 1, "b": "x"}]
    assert "The first sheet “Cover” is empty; “Data”" in r.stderr
    # A chosen empty sheet is still refused.
    r = convert(src, tmp_path / "p.json", {"sheet": "Cover"}, ok=False)
    assert r.returncode == 2 and "is empty" in r.stderr


def test_gzip_and_named_refusals_through_the_api(runner, client):
    """A .csv.gz upload is accepted and converted; an encrypted workbook is refused at upload
    with a message that says so (libmagic's type, not "content is application/encrypted")."""
    import gzip
    job = client.wait_status(client.submit("data.csv.gz", gzip.compress(b"id,name\n1,alpha\n2,\n"), "json")["id"])
    assert job["status"] == "DONE", job
    assert job["metadata"]["compression"] == "gzip" and job["metadata"]["rows"] == 2
    assert client.get(job["download_url"]).json() == [{"id": 1, "name": "alpha"}, {"id": 2, "name": None}]
    encrypted = open(os.path.join(FIX, "hostile", "poi__protected_passtika.xlsx"), "rb").read()
    r = client.upload("book.xlsx", encrypted, "csv")
    assert r.status_code == 415 and "encrypted" in r.json()["error"]["message"], r.text
    legacy = open(os.path.join(FIX, "hostile", "csvkit__dummy.xls"), "rb").read()
    r = client.upload("book.xlsx", legacy, "csv")
    assert r.status_code == 415 and "legacy binary Office file" in r.json()["error"]["message"], r.text


# Files in legacy encodings (from the corpus, licences in the manifest), each with what Python's
# own codec of the encoding reads from it.
LEGACY = [("csv/markitdown__test_mskanji.csv", "CP932", "cp932"),
          ("csv/frictionless__table-infer-iso-8859-7.csv", "ISO-8859-7", "iso-8859-7"),
          ("csv/csvkit__test_latin1.csv", "WINDOWS-1252", "cp1252")]


@pytest.mark.parametrize("name,label,codec", LEGACY, ids=[n for n, _, _ in LEGACY])
def test_legacy_encodings_are_detected(name, label, codec, tmp_path):
    """Text that is not UTF-8 is read in the encoding uchardet detects (Shift JIS as its Windows
    superset CP932, Greek ISO-8859-7), not as Windows-1252 mojibake; the warning and the metadata
    name it, and every cell is what Python's codec and csv module read."""
    src = os.path.join(FIX, name)
    r = convert(src, tmp_path / "o.json")
    assert f"it was read as {label}, the encoding detected" in r.stderr, r.stderr
    rows = list(csv.reader(open(src, encoding=codec, newline="")))
    ours = json.loads((tmp_path / "o.json").read_text())
    assert list(ours[0]) == rows[0]
    assert [[str(v) for v in row.values()] for row in ours] == rows[1:]
    meta = json.loads(subprocess.run([DOCFLOW, "inspect", src], capture_output=True, text=True, check=True).stdout)
    assert meta["encoding"] == label


def test_legacy_encodings_through_the_api(runner, client):
    """The same in the sandboxed converter (iconv's modules are read from the read-only /usr):
    a Shift JIS text file and a Greek CSV, their metadata naming the encoding."""
    text = open(os.path.join(FIX, "txt", "xlsxwriter__unicode_shift_jis.txt"), "rb").read()
    job = client.wait_status(client.submit("specs.txt", text, "md")["id"])
    assert job["status"] == "DONE", job
    assert job["metadata"]["encoding"] == "CP932"
    assert any("read as CP932" in w for w in job["warnings"]), job["warnings"]
    md = client.get(job["download_url"]).text
    words = [w for w in text.decode("cp932").split() if not w.startswith("#") and len(w) > 1]
    assert len(words) > 20 and all(w in md for w in words if w.isalnum()), md[:400]
    greek = open(os.path.join(FIX, "csv", "frictionless__table-infer-iso-8859-7.csv"), "rb").read()
    job = client.wait_status(client.submit("greek.csv", greek, "json")["id"])
    assert job["status"] == "DONE" and job["metadata"]["encoding"] == "ISO-8859-7", job
    assert client.get(job["download_url"]).json()[0]["name"] == "Λεωνιδας"
