"""Markup and PDF output, whole processes side by side on the same seeded inputs: docflow's CLI
(the same converters the job-runner calls) against pandoc, python-markdown, markitdown, html2text,
reportlab, fpdf2 and weasyprint. Prints wall time (best of --runs), peak RSS (same runs) and the ratio of each
peer's time to docflow's.

  bench/documents.py [--md-mb 5] [--txt-mb 2] [--runs 3] [--peer-timeout 600] [--smoke]

Peers are found on PATH (pandoc) or in the Python given by --python (bench/run installs them into
.build/bench-docs-venv); a missing peer is reported and skipped, never faked."""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PEERS = os.path.join(ROOT, "bench", "peers")

WORDS = ("the of and to in is for on with as by at from that this be are it an or data service file format "
         "document convert queue worker table column row value page text markdown html stream parse write read "
         "fast memory limit quota client upload download result error retry status progress socket cron runner "
         "señal coração naïve café déjà façade über").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def sentence(rng):
    parts = []
    for _ in range(rng.randint(8, 20)):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.04:
            w = f"*{w}*"
        elif r < 0.07:
            w = f"**{w}**"
        elif r < 0.09:
            w = f"`{w}()`"
        elif r < 0.10:
            w = f"[{w}](https://example.com/{w})"
        parts.append(w)
    return " ".join(parts).capitalize() + "."


def markdown_doc(rng, size):
    out, n, section = [], 0, 0
    while n < size:
        section += 1
        chunk = [f"# Part {section}\n", sentence(rng) + " " + sentence(rng) + "\n"]
        for sub in range(1, 4):
            chunk.append(f"## Section {section}.{sub}\n")
            for _ in range(3):
                chunk.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 6))) + "\n")
            chunk.append("\n".join(f"- {sentence(rng)}" for _ in range(4)) + "\n  1. " + sentence(rng) + "\n  2. " + sentence(rng) + "\n")
            if sub == 2:
                chunk.append("| Name | Count | Share | Notes |\n|:-----|------:|------:|-------|\n" + "\n".join(
                    f"| {rng.choice(WORDS)} {i} | {rng.randint(1, 99999)} | {rng.random():.3f} | {words(rng, rng.randint(2, 9))} |"
                    for i in range(12)) + "\n")
            if sub == 3:
                chunk.append("```python\n" + "\n".join(
                    f"def {rng.choice(WORDS)}_{i}(x):\n    return x * {i}  # {words(rng, 4)}" for i in range(5)) + "\n```\n")
                chunk.append("> " + sentence(rng) + " " + sentence(rng) + "\n")
        text = "\n".join(chunk) + "\n"
        out.append(text)
        n += len(text.encode())
    return "".join(out)


def text_doc(rng, size):
    out, n = [], 0
    while n < size:
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) for _ in range(rng.randint(2, 8))]
        p = "\n".join(lines) + "\n\n"
        out.append(p)
        n += len(p.encode())
    return "".join(out)


def run(cmd, out_path, timeout, stdout_to_file=False):
    """One process: (wall seconds, peak RSS in MiB, None) or (None, None, reason). The peak RSS is
    wait4's ru_maxrss: the largest of the process and the children it waited for."""
    if os.path.exists(out_path):
        os.unlink(out_path)
    with open(out_path if stdout_to_file else os.devnull, "wb") as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        err = stderr.read().decode(errors="replace").strip().splitlines()
    if wall >= timeout and p.returncode != 0:
        return None, None, f"> {timeout:.0f} s (stopped)"
    if p.returncode != 0:
        return None, None, f"failed: {err[-1] if err else p.returncode}"
    if not os.path.exists(out_path) or os.path.getsize(out_path) == 0:
        return None, None, "no output"
    return wall, usage.ru_maxrss / 1024, None


MODULES = {"python-markdown": "markdown", "markitdown": "markitdown", "html2text": "html2text",
           "reportlab": "reportlab", "fpdf2": "fpdf", "weasyprint": "weasyprint", "pypdf": "pypdf",
           "pdfplumber": "pdfplumber"}
PROGRAMS = {"pandoc": "pandoc", "LibreOffice": "soffice", "pdftotext": "pdftotext"}
_available = {}


def available(tool, python):
    if tool not in _available:
        if tool in PROGRAMS:
            _available[tool] = shutil.which(PROGRAMS[tool]) is not None
        elif tool in MODULES:
            _available[tool] = subprocess.run([python, "-c", f"import {MODULES[tool]}"], capture_output=True).returncode == 0
        else:
            _available[tool] = True
    return _available[tool]


def common_arguments(ap, peer_timeout):
    """The options every whole-process benchmark of converters takes."""
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peer-timeout", type=float, default=peer_timeout)
    ap.add_argument("--python", default=sys.executable, help="Python with the peers installed")
    ap.add_argument("--docflow", default=os.path.join(ROOT, ".build", "release", "docflow"))
    ap.add_argument("--only", default="", help="comma-separated workload names")
    ap.add_argument("--smoke", action="store_true", help="small inputs, one run (CI)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md-mb", type=float, default=5)
    ap.add_argument("--txt-mb", type=float, default=2)
    common_arguments(ap, 600)
    a = ap.parse_args()
    if a.smoke:
        a.md_mb, a.txt_mb, a.runs = 0.2, 0.1, 1

    work = tempfile.mkdtemp(prefix="docflow-bench-docs-")
    rng = random.Random(20261122)
    md = os.path.join(work, "doc.md")
    with open(md, "w") as f:
        f.write(markdown_doc(rng, int(a.md_mb * 1e6)))
    txt = os.path.join(work, "doc.txt")
    with open(txt, "w") as f:
        f.write(text_doc(rng, int(a.txt_mb * 1e6)))
    # The HTML workload is the Markdown rendered by cmark-gfm (a neutral party), as a full page.
    html = os.path.join(work, "doc.html")
    body = subprocess.run(["cmark-gfm", "-e", "table", "-e", "strikethrough", md], capture_output=True, check=True).stdout
    with open(html, "wb") as f:
        f.write(b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Benchmark</title></head><body>\n" + body + b"</body></html>\n")
    sizes = {p: os.path.getsize(p) / 1e6 for p in (md, txt, html)}
    print(f"inputs (seeded): Markdown {sizes[md]:.1f} MB, HTML {sizes[html]:.1f} MB, text {sizes[txt]:.1f} MB; "
          f"{os.cpu_count()} cores; best of {a.runs}")

    py, df = a.python, a.docflow
    o = lambda name: os.path.join(work, name)  # noqa: E731
    # workload → [(tool, command, output, output-on-stdout)]
    workloads = {
        "md→html": [
            ("docflow", [df, "convert", md, o("d.html")], o("d.html"), False),
            ("pandoc", ["pandoc", "-f", "gfm", "-t", "html", "-s", "--metadata", "title=b", md, "-o", o("p.html")], o("p.html"), False),
            ("python-markdown", [py, "-m", "markdown", "-x", "tables", "-x", "fenced_code", "-f", o("m.html"), md], o("m.html"), False),
        ],
        "html→md": [
            ("docflow", [df, "convert", html, o("d.md")], o("d.md"), False),
            ("pandoc", ["pandoc", "-f", "html", "-t", "gfm", html, "-o", o("p.md")], o("p.md"), False),
            ("markitdown", [py, "-m", "markitdown", html], o("mi.md"), True),
            ("html2text", [py, "-m", "html2text", html, "utf-8"], o("h.md"), True),
        ],
        "md→txt": [
            ("docflow", [df, "convert", md, o("d.txt")], o("d.txt"), False),
            ("pandoc", ["pandoc", "-f", "gfm", "-t", "plain", md, "-o", o("p.txt")], o("p.txt"), False),
        ],
        "txt→pdf": [
            ("docflow", [df, "convert", txt, o("dt.pdf")], o("dt.pdf"), False),
            ("reportlab", [py, os.path.join(PEERS, "reportlab_pdf.py"), "txt", txt, o("rt.pdf")], o("rt.pdf"), False),
            ("fpdf2", [py, os.path.join(PEERS, "fpdf2_pdf.py"), "txt", txt, o("ft.pdf")], o("ft.pdf"), False),
        ],
        "md→pdf": [
            ("docflow", [df, "convert", md, o("dm.pdf")], o("dm.pdf"), False),
            ("reportlab", [py, os.path.join(PEERS, "reportlab_pdf.py"), "md", md, o("rm.pdf")], o("rm.pdf"), False),
            ("fpdf2", [py, os.path.join(PEERS, "fpdf2_pdf.py"), "md", md, o("fm.pdf")], o("fm.pdf"), False),
        ],
        "html→pdf": [
            ("docflow", [df, "convert", html, o("dh.pdf")], o("dh.pdf"), False),
            ("weasyprint", [py, "-m", "weasyprint", html, o("wh.pdf")], o("wh.pdf"), False),
        ],
    }
    worst = compare(workloads, a, py)
    shutil.rmtree(work, ignore_errors=True)
    if worst is not None:
        print(f"\nslowest margin over any peer: {worst:.1f}×")


def compare(workloads, a, py):
    """Runs every workload's tools (docflow first), prints time, peak RSS and ratios; returns the
    smallest ratio of a peer's time to docflow's. Options from `a`: runs, peer_timeout, only."""
    only = set(filter(None, a.only.split(",")))
    worst = None
    for name, tools in workloads.items():
        if only and name not in only:
            continue
        print(f"\n{name}")
        base = None
        for tool, cmd, out, to_stdout in tools:
            if not available(tool, py):
                print(f"  {tool:16} not installed: skipped")
                continue
            best, rss, why = None, 0.0, None
            for _ in range(a.runs if tool == "docflow" else max(1, min(a.runs, 2))):
                wall, peak, why = run(cmd, out, a.peer_timeout, to_stdout)
                if wall is None:
                    break
                best = wall if best is None else min(best, wall)
                rss = max(rss, peak)
            if best is None:
                print(f"  {tool:16} {why}")
                if tool == "docflow":
                    sys.exit(f"docflow failed on {name}: {why}")
                continue
            pages = ""
            if out.endswith(".pdf"):
                info = subprocess.run(["pdfinfo", out], capture_output=True, text=True).stdout
                pages = next((f"{l.split()[1]:>5} pages" for l in info.splitlines() if l.startswith("Pages:")), "")
            if tool == "docflow":
                base = best
                print(f"  {tool:16} {best:8.3f} s  {rss:7.1f} MiB  {pages}")
            else:
                ratio = best / base
                worst = ratio if worst is None else min(worst, ratio)
                print(f"  {tool:16} {best:8.3f} s  {rss:7.1f} MiB  {pages}  docflow is {ratio:6.1f}× faster")
    return worst


if __name__ == "__main__":
    main()
