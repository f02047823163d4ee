"""Issue 15, documents: what users saw lost. PDF glyph coverage (CJK and symbols from the Noto CJK
and Symbola fonts scripts/up installs, read back by pdftotext; a character no font has is counted
in a warning) and plain text set in monospace so its columns stay aligned."""
import os
import subprocess

from conftest import BIN

DOCFLOW = os.path.join(BIN, "docflow")


def to_pdf(tmp_path, name, text, *options):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "o.pdf"
    args = [DOCFLOW, "convert", str(src), str(out)]
    if options:
        args += ["--options", options[0]]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out, r.stderr


def fonts(pdf):
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout


def pdftotext(pdf, *args):
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_cjk_and_symbols_get_real_glyphs(tmp_path):
    text = "# 报告 Report\n\n中文段落，日本語のテキスト、한국어 문장. Emoji 😀 and symbols ☃ ♞ ⚽.\n"
    pdf, err = to_pdf(tmp_path, "doc.md", text)
    assert "no glyph" not in err, err
    out = pdftotext(pdf)
    for piece in ["报告", "中文段落", "日本語のテキスト", "한국어", "😀", "☃", "♞", "⚽"]:
        assert piece in out, (piece, out)
    used = fonts(pdf)
    assert "NotoSansCJK" in used and "Symbola" in used, used


def test_characters_without_any_glyph_are_counted_in_a_warning(tmp_path):
    # Myanmar has no font among those installed: two letters, three times.
    pdf, err = to_pdf(tmp_path, "doc.md", "Text ကခ and က.\n")
    assert "3 character(s) have no glyph in the installed fonts" in err and "U+1000, U+1001" in err, err


def test_plain_text_is_monospace_and_keeps_its_columns(tmp_path):
    table = "name    qty  price\napple     3   1.25\nkiwi     12  10.00\nfig     100   0.5\n"
    pdf, _ = to_pdf(tmp_path, "t.txt", table)
    used = fonts(pdf)
    assert "DejaVuSansMono" in used and "DejaVuSans " not in used.replace("DejaVuSansMono", ""), used
    # Columns line up: every word starts at its character column times one advance width.
    bbox = pdftotext(pdf, "-bbox-layout")
    import re
    words = [(float(x), w) for x, w in re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>', bbox)]
    left = min(x for x, _ in words)
    advance = (dict((w, x) for x, w in words)["qty"] - left) / table.index("qty")
    for line in table.splitlines():
        for m in re.finditer(r"\S+", line):
            x = next(x for x, w in words if w == m.group())
            assert abs(x - (left + m.start() * advance)) < 0.05, (m.group(), x, left, advance)
    # The font option still chooses.
    pdf, _ = to_pdf(tmp_path, "t.txt", table, '{"font": "sans"}')
    assert "DejaVuSansMono" not in fonts(pdf)


ROOT = os.environ["DOCFLOW_ROOT"]
FIX = os.path.join(ROOT, "Tests", "Fixtures")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


def office_files():
    import glob
    files = sorted(glob.glob(os.path.join(FIX, "docx", "*.docx")) + glob.glob(os.path.join(FIX, "pptx", "*.pptx")))
    if os.path.isdir(CORPUS):
        files += sorted(glob.glob(os.path.join(CORPUS, "docx", "*.docx")) + glob.glob(os.path.join(CORPUS, "pptx", "*.pptx")))
    return files


def source_text(path):
    """The document's own text as python-docx / python-pptx read it."""
    if path.endswith(".docx"):
        import docx
        d = docx.Document(path)
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                parts += [c.text for c in row.cells]
        return "\n".join(parts)
    import pptx
    parts = []
    for slide in pptx.Presentation(path).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


def test_office_markdown_emphasis_is_always_valid_commonmark(tmp_path):
    """Every DOCX and PPTX fixture's Markdown, rendered by cmark-gfm: no `**` or `__` is left as
    literal text beyond what the document itself says, and no heading is wrapped in bold."""
    import html as htmlmod
    import re
    checked, bad = 0, []
    for path in office_files():
        out = tmp_path / "o.md"
        r = subprocess.run([DOCFLOW, "convert", path, str(out)], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            assert "encrypted" in r.stderr or "zip" in r.stderr or "package" in r.stderr, (path, r.stderr)
            continue
        md = out.read_text()
        rendered = subprocess.run(["cmark-gfm", "-e", "table", "-e", "strikethrough"], input=md, capture_output=True, text=True, check=True).stdout
        text = htmlmod.unescape(re.sub(r"<[^>]+>", "", rendered))
        try:
            source = source_text(path)
        except Exception:  # noqa: BLE001 - python-docx / python-pptx refuse some fixtures (strict OOXML)
            source = ""
        for token in ("**", "__"):
            if text.count(token) > source.count(token):
                bad.append((os.path.basename(path), token, text.count(token), source.count(token)))
        bad += [(os.path.basename(path), line) for line in md.splitlines() if re.match(r"#{1,6} \*\*", line)]
        checked += 1
    assert checked >= 20 and bad == [], bad


def make_docx(path, build):
    import docx
    d = docx.Document()
    build(d)
    d.save(path)


def test_office_runs_merge_and_monospace_paragraphs_are_code(tmp_path):
    from docx.shared import Pt

    def build(d):
        d.add_heading("", level=2).add_run("A heading").bold = True
        p = d.add_paragraph()
        p.add_run("The ").bold = True
        r = p.add_run("Sunset")
        r.bold = r.underline = True
        p.add_run(" Tree").bold = True
        p = d.add_paragraph()
        p.add_run("KNOWLEDGE ").bold = True
        p.add_run("is power. ")
        p.add_run("").bold = True
        p.add_run("Done.")
        for line in ("def f(x):", "    return x + 1"):
            run = d.add_paragraph().add_run(line)
            run.font.name = "Courier New"
            run.font.size = Pt(10)
        d.add_paragraph("After the code.")

    src = tmp_path / "runs.docx"
    make_docx(src, build)
    out = tmp_path / "o.md"
    r = subprocess.run([DOCFLOW, "convert", str(src), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    md = out.read_text()
    assert "## A heading\n" in md, md
    assert "**The <u>Sunset</u> Tree**" in md, md
    assert "**KNOWLEDGE** is power. Done." in md, md
    assert "```\ndef f(x):\n    return x + 1\n```" in md, md
    # cmark-gfm agrees: one <strong> around the whole phrase, one code block.
    html = subprocess.run(["cmark-gfm", "--unsafe"], input=md, capture_output=True, text=True, check=True).stdout
    assert "<strong>The <u>Sunset</u> Tree</strong>" in html and html.count("<pre>") == 1, html


def convert_text(tmp_path, name, text, to):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    out = tmp_path / f"out.{to}"
    r = subprocess.run([DOCFLOW, "convert", str(src), str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out, r.stderr


FOOTNOTES = "Later[^b] first[^a] again[^b].\n\n[^a]: Note *A*.\n[^b]: Note B.\n[^unused]: Never used.\n"


def test_markdown_footnotes_are_endnotes_in_every_output(tmp_path):
    import re
    # cmark-gfm's own numbering and order (its HTML footnote section) is the reference.
    ref = subprocess.run(["cmark-gfm", "-e", "footnotes"], input=FOOTNOTES, capture_output=True, text=True, check=True).stdout
    ref_markers = re.findall(r'data-footnote-ref>(\d+)</a>', ref)
    ref = re.sub(r'<a href="#fnref[^"]*"[^>]*>.*?</a>', "", ref, flags=re.S)  # the back links
    ref_notes = [re.sub(r"<[^>]+>", "", n).strip() for n in re.findall(r'<li id="fn-[^"]+">(.*?)</li>', ref, re.S)]
    assert ref_markers == ["1", "2", "1"] and ref_notes == ["Note B.", "Note A."]
    html, err = convert_text(tmp_path, "n.md", FOOTNOTES, "html")
    assert "dropped" not in err, err
    body = html.read_text()
    assert re.findall(r"\[(\d)\]", re.sub(r"<[^>]+>", "", body)) == ref_markers
    assert [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", body, re.S)] == ref_notes
    txt, _ = convert_text(tmp_path, "n.md", FOOTNOTES, "txt")
    lines = txt.read_text().splitlines()
    assert lines[0] == "Later[1] first[2] again[1]." and "1. Note B." in lines and "2. Note A." in lines and "Never used" not in txt.read_text()
    pdf, _ = convert_text(tmp_path, "n.md", FOOTNOTES, "pdf")
    words = pdftotext(pdf).split()
    assert "first[2]" in words and words.index("B.") < words.index("A.")


RAW = """# Doc

Before.

<table>
<tr><th>Name</th><th>Steps</th></tr>
<tr><td>Tea</td><td><ol><li>Boil water</li><li>Steep</li></ol></td></tr>
</table>

<div class="note">
<p>Inside a <b>div</b>.</p>
<script>alert("never")</script>
</div>

After.
"""


def test_raw_html_blocks_in_markdown_reach_every_output(tmp_path):
    for to in ("txt", "pdf", "html", "md"):
        out, err = convert_text(tmp_path, "r.md", RAW, to)
        text = pdftotext(out) if to == "pdf" else out.read_text()
        for piece in ("Tea", "Boil water", "Steep", "Inside a", "After."):
            assert piece in text, (to, piece, text)
        assert "alert" not in text, (to, text)
    # The list in the table cell keeps its separators: numbered lines, <br> in Markdown, which
    # cmark-gfm renders as a line break inside the cell.
    md, _ = convert_text(tmp_path, "r.md", RAW, "md")
    assert "Boil water<br>" in md.read_text(), md.read_text()
    html = subprocess.run(["cmark-gfm", "-e", "table", "--unsafe"], input=md.read_text(), capture_output=True, text=True, check=True).stdout
    assert "<td>1. Boil water<br>2. Steep</td>" in html, html


def test_html_table_cells_keep_list_separators(tmp_path):
    page = "<table><tr><th>A</th></tr><tr><td><ul><li>First item</li><li>Second item</li><li>Third item</li></ul></td></tr></table>"
    txt, _ = convert_text(tmp_path, "t.html", page, "txt")
    assert "• First item • Second item • Third item" in txt.read_text(), txt.read_text()
    md, _ = convert_text(tmp_path, "t.html", page, "md")
    assert "• First item<br>• Second item<br>• Third item" in md.read_text()


def test_smartart_text_is_read_from_the_diagram_data(tmp_path):
    import re
    import zipfile
    src = os.path.join(FIX, "pptx", "poi__smartart-simple.pptx")
    # The reference: the text of the diagram's nodes, straight from its data part.
    with zipfile.ZipFile(src) as z:
        data = z.read("ppt/diagrams/data1.xml").decode()
    nodes = [t for t in re.findall(r"<a:t>([^<]*)</a:t>", data) if t.strip()]
    assert nodes == ["abc", "def", "ghi"]
    out = tmp_path / "o.md"
    r = subprocess.run([DOCFLOW, "convert", src, str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "\n".join(f"- {n}" for n in nodes) in out.read_text(), out.read_text()
    pdf = tmp_path / "o.pdf"
    subprocess.run([DOCFLOW, "convert", src, str(pdf)], capture_output=True, check=True)
    assert all(n in pdftotext(pdf) for n in nodes)
    # Without its data part the diagram is said to be lost, not lost silently.
    broken = tmp_path / "broken.pptx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            if item.filename != "ppt/diagrams/data1.xml":
                zout.writestr(item, zin.read(item.filename))
    r = subprocess.run([DOCFLOW, "convert", str(broken), str(tmp_path / "b.md")], capture_output=True, text=True)
    assert r.returncode == 0 and "SmartArt diagram's text could not be read" in r.stderr, r.stderr


def test_docx_equations_are_latex_in_markdown_and_linear_text_elsewhere(tmp_path):
    """Every OMML formula of the fixture becomes TeX that latex2mathml (a LaTeX → MathML
    converter) parses, holding the formula's own letters and digits in order; TXT shows it as
    readable linear text instead of the flattened characters."""
    import re
    import zipfile
    import latex2mathml.converter
    src = os.path.join(FIX, "docx", "docling__equations.docx")
    with zipfile.ZipFile(src) as z:
        xml = z.read("word/document.xml").decode()
    formulas = re.findall(r"<m:oMath>(.*?)</m:oMath>", xml, re.S)
    displayed = len(re.findall(r"<m:oMathPara>", xml))
    out = tmp_path / "o.md"
    r = subprocess.run([DOCFLOW, "convert", src, str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    md = out.read_text()
    display = re.findall(r"\$\$(.+?)\$\$", md)
    inline = re.findall(r"(?<!\$)\$([^$]+)\$(?!\$)", re.sub(r"\$\$.+?\$\$", "", md))
    assert len(display) == displayed and len(display) + len(inline) == len(formulas), (len(display), len(inline), len(formulas))
    ours = display + inline
    for tex in ours:
        mathml = latex2mathml.converter.convert(tex)  # raises on TeX it cannot parse
        assert "<merror" not in mathml, tex
    # Letters and digits survive, in order (each formula's m:t text against its MathML's).
    def alnum(s):
        return re.sub(r"[^A-Za-z0-9α-ωΑ-Ω]", "", s)
    import html as htmlmod
    omml_chars = sorted(alnum(htmlmod.unescape("".join(re.findall(r"<m:t[^>]*>([^<]*)</m:t>", f)))) for f in formulas)
    def mathml_chars(tex):
        import html
        m = latex2mathml.converter.convert(tex)
        return alnum(html.unescape("".join(re.findall(r"<m[in][^>]*>([^<]*)</m[in]>", m))))
    assert sorted(mathml_chars(t) for t in ours) == omml_chars
    # Linear text in TXT: superscripts and fractions readable, the TeX absent.
    txt = tmp_path / "o.txt"
    subprocess.run([DOCFLOW, "convert", src, str(txt)], check=True, capture_output=True)
    text = txt.read_text()
    for piece in ("A=πr²", "E=mc²", "a²+b²=c²", "(nπx/L)", "eˣ" if "eˣ" in text else "e^x"):
        assert piece in text, (piece, text[:600])
    assert "\\frac" not in text and "$" not in text
