"""Office and PDF input, whole processes side by side on the same seeded inputs: docflow's CLI (the
converters the job-runner calls) against markitdown, pandoc, LibreOffice, pdftotext, pdfplumber and
pypdf. Prints wall time (best of --runs), peak RSS and each peer's time over docflow's.

  bench/office.py [--docx-pages 200] [--slides 100] [--pdf-pages 300] [--runs 3] [--smoke]

The inputs are made by bench/peers/office_peer.py with python-docx, python-pptx and reportlab
(seeded). Peers are found on PATH (pandoc, soffice, pdftotext) or in the Python given by --python
(bench/run installs them into .build/bench-office-venv); a missing peer is reported and skipped."""
import argparse
import os
import shutil
import subprocess
import tempfile

from documents import PEERS, common_arguments, compare


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docx-pages", type=int, default=200)
    ap.add_argument("--slides", type=int, default=100)
    ap.add_argument("--pdf-pages", type=int, default=300)
    common_arguments(ap, 900)
    a = ap.parse_args()
    if a.smoke:
        a.docx_pages, a.slides, a.pdf_pages, a.runs = 10, 10, 20, 1

    work = tempfile.mkdtemp(prefix="docflow-bench-office-")
    py, df = a.python, a.docflow
    o = lambda name: os.path.join(work, name)  # noqa: E731
    peer = os.path.join(PEERS, "office_peer.py")
    docx, pptx, pdf = o("doc.docx"), o("deck.pptx"), o("text.pdf")
    for kind, path, n in (("docx", docx, a.docx_pages), ("pptx", pptx, a.slides), ("pdf", pdf, a.pdf_pages)):
        subprocess.run([py, peer, f"make-{kind}", path, str(n), "20261123"], check=True)
    pages = lambda p: subprocess.run(["pdfinfo", p], capture_output=True, text=True).stdout  # noqa: E731
    subprocess.run([df, "convert", docx, o("probe.pdf")], check=True, capture_output=True)
    docx_pages = next((l.split()[1] for l in pages(o("probe.pdf")).splitlines() if l.startswith("Pages:")), "?")
    pdf_pages = next((l.split()[1] for l in pages(pdf).splitlines() if l.startswith("Pages:")), "?")
    print(f"inputs (seeded): DOCX {os.path.getsize(docx) / 1e6:.2f} MB ({docx_pages} pages as Doc Flow lays it out), "
          f"PPTX {os.path.getsize(pptx) / 1e6:.2f} MB ({a.slides} slides), PDF {os.path.getsize(pdf) / 1e6:.2f} MB "
          f"({pdf_pages} pages); {os.cpu_count()} cores; best of {a.runs}")
    os.makedirs(o("lo-docx"), exist_ok=True)
    os.makedirs(o("lo-pptx"), exist_ok=True)
    # LibreOffice gets a private profile so that a running instance or a first-start dialog never interferes.
    lo = ["soffice", f"-env:UserInstallation=file://{o('lo-profile')}", "--headless", "--convert-to", "pdf", "--outdir"]
    workloads = {
        "docx→md": [
            ("docflow", [df, "convert", docx, o("d.md")], o("d.md"), False),
            ("markitdown", [py, "-m", "markitdown", docx], o("mi.md"), True),
            ("pandoc", ["pandoc", "-f", "docx", "-t", "gfm", docx, "-o", o("p.md")], o("p.md"), False),
        ],
        "pptx→md": [
            ("docflow", [df, "convert", pptx, o("s.md")], o("s.md"), False),
            ("markitdown", [py, "-m", "markitdown", pptx], o("smi.md"), True),
        ],
        "docx→pdf": [
            ("docflow", [df, "convert", docx, o("d.pdf")], o("d.pdf"), False),
            ("LibreOffice", lo + [o("lo-docx"), docx], o("lo-docx/doc.pdf"), False),
        ],
        "pptx→pdf": [
            ("docflow", [df, "convert", pptx, o("s.pdf")], o("s.pdf"), False),
            ("LibreOffice", lo + [o("lo-pptx"), pptx], o("lo-pptx/deck.pdf"), False),
        ],
        "pdf→txt": [
            ("docflow", [df, "convert", pdf, o("t.txt")], o("t.txt"), False),
            ("pdftotext", ["pdftotext", pdf, o("pt.txt")], o("pt.txt"), False),
            ("pdfplumber", [py, peer, "pdfplumber", pdf, o("pp.txt")], o("pp.txt"), False),
            ("pypdf", [py, peer, "pypdf", pdf, o("py.txt")], o("py.txt"), False),
        ],
    }
    worst = compare(workloads, a, py)
    shutil.rmtree(work, ignore_errors=True)
    if worst is not None:
        print(f"\nslowest margin over any peer: {worst:.2f}×")


if __name__ == "__main__":
    main()
