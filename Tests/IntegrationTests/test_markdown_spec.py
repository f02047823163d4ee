"""Markdown → HTML against the CommonMark and GFM spec examples, compared after the HTML
normalisation spec runners use (tags, attributes and whitespace canonicalised). Our path is
Markdown → document model → HTML writer, so the pass count is reported next to what cmark-gfm
itself scores in the same safe mode (raw HTML omitted); the floors below can only rise."""
import concurrent.futures
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import BIN, ROOT

SPECS = os.path.join(ROOT, "Tests", "Fixtures", "specs")
# file → the pass count Doc Flow may not fall below
FLOORS = {
    "commonmark-spec/spec.examples.json": 576,  # cmark-gfm 0.29 in safe mode: 574
    "cmark-gfm/spec.examples.json": 599,  # cmark-gfm: 597
    "cmark-gfm/extensions.examples.json": 24,  # cmark-gfm: 24
    "cmark-gfm/regression.examples.json": 14,  # cmark-gfm: 13
}
BLOCK = {"address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
         "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr",
         "html", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
         "thead", "title", "tr", "ul", "input"}


class Normaliser(HTMLParser):
    """Canonical text of an HTML fragment: attributes sorted, `<br />` = `<br>`, `disabled=""` =
    `disabled`, whitespace collapsed outside <pre> and dropped next to block tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.pre = 0

    def starttag(self, tag, attrs):
        if tag == "pre":
            self.pre += 1
        attrs = sorted((k, v or "") for k, v in attrs)
        text = "<" + tag + "".join(f' {k}="{html.escape(v)}"' for k, v in attrs) + ">"
        self.out.append(("block" if tag in BLOCK else "inline", text))

    def handle_starttag(self, tag, attrs):
        self.starttag(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self.starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        self.out.append(("block" if tag in BLOCK else "inline", f"</{tag}>"))

    def handle_data(self, data):
        if self.pre:  # kept as it is
            self.out.append(("pre", html.escape(data, quote=False)))
        else:
            self.out.append(("data", html.escape(re.sub(r"\s+", " ", data), quote=False)))

    def handle_comment(self, data):
        self.out.append(("block", f"<!--{data}-->"))

    def result(self):
        parts = []
        for i, (kind, text) in enumerate(self.out):
            if kind == "data":
                prev = self.out[i - 1][0] if i else "block"
                nxt = self.out[i + 1][0] if i + 1 < len(self.out) else "block"
                if prev == "block":
                    text = text.lstrip()
                if nxt == "block":
                    text = text.rstrip()
            parts.append(text)
        return "".join(parts)


def normalise(fragment):
    n = Normaliser()
    n.feed(fragment)
    n.close()
    return n.result()


def ours(markdown, tmp):
    path = os.path.join(tmp, "in.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(markdown)
    out = subprocess.run([f"{BIN}/docflow", "convert", path, "-", "--to", "html", "--options", '{"fragment": true}'],
                         capture_output=True, timeout=30)
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else f"<error {out.returncode}>"


def cmark_gfm(markdown):
    out = subprocess.run(["cmark-gfm", "-e", "table", "-e", "strikethrough", "-e", "autolink", "-e", "tasklist",
                          "-e", "tagfilter"], input=markdown.encode(), capture_output=True, timeout=30)
    return out.stdout.decode("utf-8", "replace")


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_spec_examples(name, tmp_path):
    with open(os.path.join(SPECS, name), encoding="utf-8") as f:
        examples = json.load(f)

    def check(i_example):
        i, ex = i_example
        d = tmp_path / str(i)
        d.mkdir()
        want = normalise(ex["html"])
        mine = normalise(ours(ex["markdown"], str(d))) == want
        theirs = normalise(cmark_gfm(ex["markdown"])) == want if shutil.which("cmark-gfm") else None
        return ex["example"], ex.get("section", ""), mine, theirs

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(check, enumerate(examples)))
    passed = sum(1 for r in results if r[2])
    reference = sum(1 for r in results if r[3]) if shutil.which("cmark-gfm") else None
    report = os.path.join(ROOT, "var", "spec-report.txt")
    os.makedirs(os.path.dirname(report), exist_ok=True)
    with open(report, "w" if name == sorted(FLOORS)[0] else "a") as f:
        f.write(f"{name}: Doc Flow {passed}/{len(examples)}, cmark-gfm (safe) {reference}/{len(examples)}\n")
        for ex, section, mine, theirs in results:
            if theirs and not mine:
                f.write(f"  example {ex} ({section}): cmark-gfm passes, Doc Flow does not\n")
    print(f"\n{name}: Doc Flow {passed}/{len(examples)}, cmark-gfm (safe mode) {reference}/{len(examples)}")
    assert passed >= FLOORS[name], f"{passed} < floor {FLOORS[name]}; see var/spec-report.txt"
