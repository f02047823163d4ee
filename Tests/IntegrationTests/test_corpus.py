"""A sweep over the team corpus (../shared/corpus) when it is there: every Markdown, CSV, text and HTML file
(and every document among them to PDF too),
hostile ones included, converts or fails with a clear message: exit 0 with output, or exit 2 with
a one-line reason and no output file. Never a crash, never a hang."""
import glob
import os
import subprocess

import pytest

from conftest import BIN, ROOT

CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
FILES = sorted(
    glob.glob(os.path.join(CORPUS, "md", "*.md")) + glob.glob(os.path.join(CORPUS, "csv", "*.csv"))
    + glob.glob(os.path.join(CORPUS, "csv", "*.tsv")) + glob.glob(os.path.join(CORPUS, "hostile", "*.md"))
    + glob.glob(os.path.join(CORPUS, "hostile", "*.csv"))
    + glob.glob(os.path.join(CORPUS, "txt", "*.txt")) + glob.glob(os.path.join(CORPUS, "hostile", "*.txt"))
    + glob.glob(os.path.join(CORPUS, "html", "*.html")) + glob.glob(os.path.join(CORPUS, "hostile", "*.html"))
)
TARGET = {".md": "html", ".csv": "json", ".tsv": "json", ".txt": "md", ".html": "md"}


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not present (plain clone)")
def test_corpus_sweep(tmp_path):
    failures, converted, refused = [], 0, 0
    jobs = [(p, TARGET[os.path.splitext(p)[1]]) for p in FILES]
    jobs += [(p, "pdf") for p in FILES if os.path.splitext(p)[1] in (".md", ".txt", ".html")]
    for path, to in jobs:
        out = tmp_path / f"out.{to}"
        r = subprocess.run([f"{BIN}/docflow", "convert", path, str(out), "--to", to],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0 and out.exists():  # may be empty: a page of nothing but markup
            converted += 1
            if to == "pdf":  # a PDF poppler opens, with at least one page
                info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True)
                if info.returncode != 0 or "Pages:" not in info.stdout:
                    failures.append((os.path.relpath(path, CORPUS), "pdfinfo", info.stderr[-300:]))
        elif r.returncode == 2 and r.stderr.startswith("docflow: ") and not out.exists():
            refused += 1
        else:
            failures.append((os.path.relpath(path, CORPUS), r.returncode, r.stderr[-300:]))
        if out.exists():
            out.unlink()
    print(f"corpus sweep: {converted} converted, {refused} refused with a reason, {len(failures)} bad")
    assert not failures, failures
    assert converted > len(jobs) / 2
