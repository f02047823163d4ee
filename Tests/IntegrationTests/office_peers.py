"""Words of DOCX, PPTX and PDF files as reference tools see them (python-docx, python-pptx,
pdftotext), and an agreement score against Doc Flow's words. Test tooling only."""
import collections
import re
import subprocess

WORD = re.compile(r"\w+", re.UNICODE)


URL = re.compile(r"<?(?:https?|mailto|ftp):[^\s>)]+>?")


def words(text):
    """Word tokens, case-folded; punctuation, markup and web addresses (TXT output prints a link's
    address after its text) do not count."""
    return [w.casefold() for w in WORD.findall(URL.sub(" ", text))]


def agreement(ours, reference):
    """2·|common| / (|ours| + |reference|) over word multisets: 1.0 is the same words, 0.0 none."""
    a, b = collections.Counter(ours), collections.Counter(reference)
    total = sum(a.values()) + sum(b.values())
    if total == 0:
        return 1.0
    return 2 * sum((a & b).values()) / total


def docx_text(path):
    """Body paragraphs and table cells (nested tables included), footnotes not (python-docx has no API)."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = docx.Document(path)
    out = []

    def walk(parent):
        for item in parent.iter_inner_content():
            if isinstance(item, Paragraph):
                out.append(item.text)
            elif isinstance(item, Table):
                seen = set()
                for row in item.rows:
                    for cell in row.cells:
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        walk(cell)

    walk(doc)
    return "\n".join(out)


def pptx_text(path, notes=False):
    """Text frames and table cells of every slide, groups included; notes by option."""
    import pptx
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out = []

    def shape_text(shape):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            for s in shape.shapes:
                shape_text(s)
            return
        if shape.has_text_frame:
            out.append(shape.text_frame.text)
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    out.append(cell.text)
        if getattr(shape, "has_chart", False) and shape.has_chart:
            # A chart's cached data, which Doc Flow writes as a table: title, series, categories, values.
            chart = shape.chart
            if chart.has_title and chart.chart_title.has_text_frame:
                out.append(chart.chart_title.text_frame.text)
            try:
                for plot in chart.plots:
                    out.extend(str(c) for c in plot.categories)
                    for series in plot.series:
                        out.append(series.name or "")
                        out.extend(f"{v:g}" for v in series.values if v is not None)
            except (KeyError, ValueError):  # a plot type python-pptx cannot read (3-D charts)
                pass

    for slide in pptx.Presentation(path).slides:
        for shape in slide.shapes:
            shape_text(shape)
        if notes and slide.has_notes_slide:
            out.append(slide.notes_slide.notes_text_frame.text if slide.notes_slide.notes_text_frame else "")
    return "\n".join(out)


def pdf_text(path):
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8", "replace")
