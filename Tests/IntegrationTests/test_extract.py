"""Issue 15, extraction as a result of its own: the `extract` target for every input format, valid
against docs/extract.schema.json, its metadata the job's and `docflow inspect`'s, its content
checked against the reference readers (python-docx, python-pptx, pdftotext, pyarrow, openpyxl)."""
import glob
import json
import os
import subprocess

import jsonschema_rs
import openpyxl
import pyarrow.parquet as pq
import pytest

from conftest import BIN, ROOT

FIX = os.path.join(ROOT, "Tests", "Fixtures")
DOCFLOW = os.path.join(BIN, "docflow")
SCHEMA = jsonschema_rs.validator_for(json.load(open(os.path.join(ROOT, "docs", "extract.schema.json"))))

SAMPLES = [
    "md/docling__blocks.md", "docx/docling__word_sample.docx", "docx/docling__unit_test_headers.docx",
    "pptx/docling__powerpoint_sample.pptx", "pdf/docling__multi_page.pdf", "pdf/pypdf__metadata.pdf",
    "xlsx/csvkit__test.xlsx", "parquet/parquet-testing__alltypes_plain.parquet",
    "parquet/parquet-testing__nullable.impala.parquet",
]


def extract(path, tmp_path, *extra):
    out = tmp_path / "x.json"
    r = subprocess.run([DOCFLOW, "convert", path, str(out), "--to", "extract", *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def inspect(path, *extra):
    r = subprocess.run([DOCFLOW, "inspect", path, *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def texts(blocks):
    for b in blocks:
        if "text" in b:
            yield b["text"]
        for inner in [b.get("blocks", [])] + [i["blocks"] for i in b.get("items", [])]:
            yield from texts(inner)
        for row in ([b["header"]] + b["rows"]) if b["type"] == "table" else []:
            yield from row


@pytest.mark.parametrize("name", SAMPLES)
def test_extract_is_valid_and_agrees_with_inspect(name, tmp_path):
    path = os.path.join(FIX, name)
    x = extract(path, tmp_path)
    errors = [str(e) for e in SCHEMA.iter_errors(x)]
    assert errors == [], errors[:3]
    assert x["metadata"] == inspect(path)
    if x["kind"] == "document":
        assert x["outline"] == x["metadata"].get("outline", [])
        words = sum(len(t.split()) for t in texts(x["blocks"]))
        assert abs(words - x["metadata"]["word_count"]) <= max(3, x["metadata"]["word_count"] // 50), (words, x["metadata"]["word_count"])
    else:
        assert x["rows"] == x["metadata"]["rows"] and x["schema"] == x["metadata"]["schema"]


def test_docx_paragraphs_are_those_python_docx_reads(tmp_path):
    import docx
    path = os.path.join(FIX, "docx/docling__unit_test_headers.docx")
    ours = [t for t in texts(extract(path, tmp_path)["blocks"]) if t.strip()]
    theirs = [p.text.strip() for p in docx.Document(path).paragraphs if p.text.strip()]
    assert [t.strip() for t in ours] == theirs


def test_pptx_text_is_what_python_pptx_reads(tmp_path):
    import pptx
    path = os.path.join(FIX, "pptx/docling__powerpoint_sample.pptx")
    ours = " ".join(texts(extract(path, tmp_path)["blocks"])).split()
    theirs = []
    for slide in pptx.Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                theirs += shape.text_frame.text.split()
    assert [w for w in theirs if w not in ours] == []


def test_pdf_words_are_pdftotexts(tmp_path):
    path = os.path.join(FIX, "pdf/docling__multi_page.pdf")
    x = extract(path, tmp_path)
    ref = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout.split()
    assert " ".join(texts(x["blocks"])).split() == ref
    assert x["metadata"]["page_count"] == 5 and sum(b["type"] == "page_break" for b in x["blocks"]) == 4


def test_table_schema_and_sample_are_pyarrows(tmp_path):
    path = os.path.join(FIX, "parquet/parquet-testing__alltypes_plain.parquet")
    x = extract(path, tmp_path)
    t = pq.read_table(path)
    assert [c["name"] for c in x["schema"]] == t.column_names and x["rows"] == t.num_rows
    assert [r["id"] for r in x["sample"]] == t.column("id").to_pylist()
    wb = os.path.join(FIX, "xlsx/csvkit__test.xlsx")
    x = extract(wb, tmp_path)
    rows = list(openpyxl.load_workbook(wb, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [c["name"] for c in x["schema"]] == [f"column_{i + 1}" if v is None else str(v) for i, v in enumerate(rows[0])]


def test_inspect_refuses_clearly(tmp_path):
    r = subprocess.run([DOCFLOW, "inspect", os.path.join(FIX, "hostile", "poi__protected_passtika.xlsx")], capture_output=True, text=True)
    assert r.returncode == 2 and "encrypted" in r.stderr


def test_formats_prints_whole_names_in_columns():
    r = subprocess.run([DOCFLOW, "formats"], capture_output=True, text=True, check=True)
    lines = [l for l in r.stdout.splitlines() if "→" in l and ":" not in l]
    assert any("Word document" in l for l in lines) and any("PowerPoint presentation" in l for l in lines)
    assert len({l.index("→") for l in lines}) == 1, lines  # the arrows line up
    assert any(l.startswith("extract") and "(output only)" in l for l in lines)


def test_extract_job_metadata_is_the_results(runner, client):
    data = open(os.path.join(FIX, "docx/docling__word_sample.docx"), "rb").read()
    job = client.wait_status(client.submit("sample.docx", data, "extract")["id"])
    assert job["status"] == "DONE", job
    assert job["output_filename"].endswith(".extract.json")
    x = client.get(job["download_url"]).json()
    assert x["kind"] == "document" and x["metadata"] == job["metadata"]
