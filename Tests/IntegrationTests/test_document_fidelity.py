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
