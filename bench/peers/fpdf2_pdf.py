"""Peer for TXT → PDF and Markdown → PDF: what a Python user writes with fpdf2 2.8.1 (multi_cell for
text; python-markdown then write_html for Markdown). DejaVu Sans for Unicode, A4."""
import sys

import markdown
from fpdf import FPDF

FONTS = "/usr/share/fonts/truetype/dejavu/"


def main(kind, src, dst):
    text = open(src, encoding="utf-8").read()
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", FONTS + "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONTS + "DejaVuSans-Bold.ttf")
    pdf.add_font("DejaVu", "I", FONTS + "DejaVuSans-Oblique.ttf")
    pdf.add_font("DejaVu", "BI", FONTS + "DejaVuSans-BoldOblique.ttf")
    pdf.add_font("DejaVuMono", "", FONTS + "DejaVuSansMono.ttf")
    pdf.set_font("DejaVu", size=10.5)
    pdf.add_page()
    if kind == "txt":
        pdf.multi_cell(0, 5, text)
    else:
        html = markdown.markdown(text, extensions=["tables", "fenced_code"])
        pdf.write_html(html, font_family="DejaVu", pre_code_font="DejaVuMono")
    pdf.output(dst)


if __name__ == "__main__":
    main(*sys.argv[1:4])
