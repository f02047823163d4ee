"""Generators and peers of bench/office.py (run in the benchmark's Python).

  office_peer.py make-docx OUT PAGES SEED     a seeded DOCX: headings, paragraphs, lists, tables
  office_peer.py make-pptx OUT SLIDES SEED    a seeded PPTX: titles, bullets, tables
  office_peer.py make-pdf OUT PAGES SEED      a seeded text PDF (reportlab)
  office_peer.py pdfplumber IN OUT            PDF → text with pdfplumber
  office_peer.py pypdf IN OUT                 PDF → text with pypdf"""
import random
import sys

WORDS = ("the of and to in is for on with as by at from that this be are it an or data service file format "
         "document convert queue worker table column row value page text markdown stream parse write read "
         "fast memory limit quota client upload download result error retry status progress socket cron runner "
         "señal coração naïve café déjà façade über").split()


def sentence(rng, lo=8, hi=20):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."


def make_docx(out, pages, seed):
    import docx
    rng = random.Random(seed)
    d = docx.Document()
    d.core_properties.title = "Benchmark document"
    d.core_properties.author = "Doc Flow bench"
    # A section (heading, 3 paragraphs, a list, every other one a table) fills about 0.8 of a page
    # as LibreOffice lays it out, so 5 sections make 4 pages.
    for s in range(pages * 5 // 4):
        d.add_heading(f"Section {s + 1}", level=1 if s % 5 == 0 else 2)
        for _ in range(3):
            d.add_paragraph(" ".join(sentence(rng) for _ in range(rng.randint(4, 7))))
        for i in range(4):
            d.add_paragraph(sentence(rng, 5, 12), style="List Bullet" if s % 2 else "List Number")
        if s % 2 == 0:
            t = d.add_table(rows=6, cols=4)
            t.style = "Table Grid"
            for r, row in enumerate(t.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"h{c}" if r == 0 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
    d.save(out)


def make_pptx(out, slides, seed):
    import pptx
    from pptx.util import Inches
    rng = random.Random(seed)
    p = pptx.Presentation()
    p.core_properties.title = "Benchmark deck"
    for n in range(slides):
        if n % 5 == 4:
            s = p.slides.add_slide(p.slide_layouts[5])  # title only
            s.shapes.title.text = f"Table {n + 1}"
            t = s.shapes.add_table(6, 4, Inches(0.5), Inches(1.5), Inches(9), Inches(4)).table
            for r in range(6):
                for c in range(4):
                    t.cell(r, c).text = f"h{c}" if r == 0 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            continue
        s = p.slides.add_slide(p.slide_layouts[1])  # title and content
        s.shapes.title.text = f"Slide {n + 1}: " + " ".join(rng.choice(WORDS) for _ in range(4))
        tf = s.placeholders[1].text_frame
        tf.text = sentence(rng, 5, 10)
        for i in range(5):
            para = tf.add_paragraph()
            para.text = sentence(rng, 5, 10)
            para.level = 1 if i % 3 == 2 else 0
        s.notes_slide.notes_text_frame.text = sentence(rng)
    p.save(out)


def make_pdf(out, pages, seed):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    rng = random.Random(seed)
    c = canvas.Canvas(out, pagesize=A4)
    c.setTitle("Benchmark PDF")
    for _ in range(pages):
        text = c.beginText(60, 800)
        text.setFont("Helvetica", 10)
        for line in range(60):
            text.textLine(" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 14))))
            if line % 12 == 11:
                text.textLine("")
        c.drawText(text)
        c.showPage()
    c.save()


def pdfplumber_text(src, out):
    import pdfplumber
    with pdfplumber.open(src) as pdf, open(out, "w") as f:
        for page in pdf.pages:
            f.write((page.extract_text() or "") + "\f")


def pypdf_text(src, out):
    import pypdf
    with open(out, "w") as f:
        for page in pypdf.PdfReader(src).pages:
            f.write(page.extract_text() + "\f")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd.startswith("make-"):
        {"make-docx": make_docx, "make-pptx": make_pptx, "make-pdf": make_pdf}[cmd](sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        {"pdfplumber": pdfplumber_text, "pypdf": pypdf_text}[cmd](sys.argv[2], sys.argv[3])
