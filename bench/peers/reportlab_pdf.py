"""Peer for TXT → PDF and Markdown → PDF: what a Python user writes with reportlab 4.2.5 (Platypus
flowables; Markdown goes through python-markdown first). DejaVu Sans for Unicode, A4."""
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import markdown
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import ListFlowable, ListItem, Paragraph, Preformatted, SimpleDocTemplate, Table, TableStyle

FONTS = "/usr/share/fonts/truetype/dejavu/"
pdfmetrics.registerFont(TTFont("DejaVu", FONTS + "DejaVuSans.ttf"))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONTS + "DejaVuSans-Bold.ttf"))
pdfmetrics.registerFont(TTFont("DejaVuMono", FONTS + "DejaVuSansMono.ttf"))
pdfmetrics.registerFontFamily("DejaVu", normal="DejaVu", bold="DejaVu-Bold", italic="DejaVu", boldItalic="DejaVu-Bold")
styles = getSampleStyleSheet()
for s in styles.byName.values():
    s.fontName = "DejaVu"
body = styles["BodyText"]
code = styles["Code"]
code.fontName = "DejaVuMono"


def inline(el):
    """An element's content as reportlab paragraph markup."""
    out = escape(el.text or "")
    for child in el:
        tag = {"strong": "b", "em": "i", "del": "strike"}.get(child.tag)
        if tag:
            out += f"<{tag}>{inline(child)}</{tag}>"
        elif child.tag == "code":
            out += f'<font face="DejaVuMono">{escape(child.text or "")}</font>'
        elif child.tag == "a":
            out += f'<a href="{escape(child.get("href", ""))}" color="blue">{inline(child)}</a>'
        elif child.tag == "br":
            out += "<br/>"
        else:
            out += inline(child)
        out += escape(child.tail or "")
    return out


def flowables(el):
    for child in el:
        t = child.tag
        if t in ("h1", "h2", "h3", "h4", "h5", "h6"):
            yield Paragraph(inline(child), styles["Heading" + t[1]])
        elif t == "p":
            yield Paragraph(inline(child), body)
        elif t == "pre":
            yield Preformatted("".join(child.itertext()), code)
        elif t in ("ul", "ol"):
            items = [ListItem(list(flowables(li)) or [Paragraph(inline(li), body)]) if any(c.tag in ("p", "ul", "ol") for c in li)
                     else ListItem(Paragraph(inline(li), body)) for li in child]
            yield ListFlowable(items, bulletType="1" if t == "ol" else "bullet")
        elif t == "table":
            rows = [[Paragraph(inline(c), body) for c in tr] for tr in child.iter("tr")]
            tbl = Table(rows, repeatRows=1)
            tbl.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
            yield tbl
        elif t == "blockquote":
            yield from flowables(child)
        elif t == "hr":
            continue
        else:
            yield Paragraph(inline(child), body)


def main(kind, src, dst):
    text = open(src, encoding="utf-8").read()
    doc = SimpleDocTemplate(dst, pagesize=A4, title="benchmark")
    if kind == "txt":
        story = [Paragraph(escape(p).replace("\n", "<br/>"), body) for p in text.split("\n\n") if p.strip()]
    else:
        html = markdown.markdown(text, extensions=["tables", "fenced_code"])
        story = list(flowables(ET.fromstring("<div>" + html + "</div>")))
    doc.build(story)


if __name__ == "__main__":
    main(*sys.argv[1:4])
