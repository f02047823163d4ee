#include "popplertext.h"

#include <Error.h>
#include <ErrorCodes.h>
#include <GlobalParams.h>
#include <PDFDoc.h>
#include <Page.h>
#include <Stream.h>
#include <TextOutputDev.h>
#include <UTF.h>
#include <goo/GooString.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

struct docflow_pdf {
    std::unique_ptr<PDFDoc> doc;
};

namespace {
// poppler reports damaged objects on stderr; the reader reports failures itself.
void quiet(ErrorCategory, Goffset, const char *) {}

void setup() {
    static std::once_flag once;
    std::call_once(once, [] {
        globalParams = std::make_unique<GlobalParams>();
        globalParams->setTextEncoding("UTF-8");
        setErrorCallback(quiet);
    });
}

char *copy_out(const std::string &s, size_t *length) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (!out) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = 0;
    if (length) *length = s.size();
    return out;
}

void append(void *stream, const char *text, int len) { static_cast<std::string *>(stream)->append(text, len); }

struct Deadline {
    std::chrono::steady_clock::time_point at;
    bool hit = false;
};

bool past(void *data) {
    auto *d = static_cast<Deadline *>(data);
    if (std::chrono::steady_clock::now() > d->at) d->hit = true;
    return d->hit;
}

void put_utf8(std::string &out, Unicode u) {
    if (u < 0x80) {
        out += static_cast<char>(u);
    } else if (u < 0x800) {
        out += static_cast<char>(0xC0 | (u >> 6));
        out += static_cast<char>(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
        if (u >= 0xD800 && u <= 0xDFFF) u = 0xFFFD;
        out += static_cast<char>(0xE0 | (u >> 12));
        out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (u & 0x3F));
    } else if (u < 0x110000) {
        out += static_cast<char>(0xF0 | (u >> 18));
        out += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (u & 0x3F));
    }
}
// Image XObjects under a resource dictionary, form XObjects followed (shared objects once).
void count_images(const Object &resources, std::set<int> &seen, int &count, int depth) {
    if (!resources.isDict() || depth > 8) return;
    Object xobjects = resources.dictLookup("XObject");
    if (!xobjects.isDict()) return;
    for (int i = 0; i < xobjects.dictGetLength(); i++) {
        const Object &ref = xobjects.dictGetValNF(i);
        if (ref.isRef() && !seen.insert(ref.getRefNum()).second) continue;
        Object x = xobjects.dictGetVal(i);
        if (!x.isStream()) continue;
        Object subtype = x.streamGetDict()->lookup("Subtype");
        if (subtype.isName("Image")) {
            count++;
        } else if (subtype.isName("Form")) {
            Object inner = x.streamGetDict()->lookup("Resources");
            count_images(inner, seen, count, depth + 1);
        }
    }
}
}  // namespace

extern "C" int docflow_pdf_image_count(const docflow_pdf *pdf) {
    try {
        int count = 0;
        std::set<int> seen;
        for (int p = 1; p <= pdf->doc->getNumPages(); p++) {
            Page *page = pdf->doc->getPage(p);
            if (page) count_images(*page->getResourceDictObject(), seen, count, 0);
        }
        return count;
    } catch (...) {
        return -1;
    }
}

extern "C" docflow_pdf *docflow_pdf_open(const char *data, size_t length, int *status) {
    setup();
    *status = DOCFLOW_PDF_DAMAGED;
    try {
        // PDFDoc owns the stream object; the bytes stay the caller's.
        auto doc = std::make_unique<PDFDoc>(new MemStream(data, 0, static_cast<Goffset>(length), Object(objNull)));
        if (!doc->isOk()) {
            if (doc->getErrorCode() == errEncrypted) *status = DOCFLOW_PDF_PASSWORD;
            return nullptr;
        }
        *status = DOCFLOW_PDF_OK;
        return new docflow_pdf{std::move(doc)};
    } catch (...) {
        return nullptr;
    }
}

extern "C" void docflow_pdf_close(docflow_pdf *pdf) { delete pdf; }

extern "C" int docflow_pdf_page_count(const docflow_pdf *pdf) { return pdf->doc->getNumPages(); }

extern "C" char *docflow_pdf_page_text(const docflow_pdf *pdf, int index, double seconds, size_t *length, int *status,
                                       float **sizes, int **starts, int *count) {
    *status = DOCFLOW_PDF_DAMAGED;
    *sizes = nullptr;
    *starts = nullptr;
    *count = 0;
    try {
        std::string text;
        // pdftotext's defaults: reading order (not physical layout, not raw), diagonal text kept.
        TextOutputDev dev(append, &text, false, 0, false, false);
        if (!dev.isOk()) return nullptr;
        Deadline deadline{std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds))};
        pdf->doc->displayPage(&dev, index + 1, 72, 72, 0, true, false, false, past, &deadline);
        if (deadline.hit) {
            *status = DOCFLOW_PDF_TIMEOUT;
            return nullptr;
        }
        // Each written line's largest font size, and whether it starts a text block, in the order
        // the text was written (pdftotext joins a line ending in a hyphen with the next one of its
        // block: one written line).
        std::vector<float> found;
        std::vector<int> begins;
        for (const TextFlow *flow = dev.getFlows(); flow; flow = flow->getNext()) {
            for (const TextBlock *block = flow->getBlocks(); block; block = block->getNext()) {
                bool first = true, joined = false;
                for (const TextLine *line = block->getLines(); line; line = line->getNext()) {
                    double size = 0;
                    bool words = false;
                    for (const TextWord *word = line->getWords(); word; word = word->getNext()) {
                        words = true;
                        if (word->getFontSize() > size) size = word->getFontSize();
                    }
                    if (!words) continue;
                    if (joined) {
                        found.back() = std::max(found.back(), static_cast<float>(size));
                    } else {
                        found.push_back(static_cast<float>(size));
                        begins.push_back(first);
                    }
                    first = false;
                    joined = line->isHyphenated() && line->getNext();
                }
            }
        }
        if (!found.empty()) {
            *sizes = static_cast<float *>(std::malloc(found.size() * sizeof(float)));
            *starts = static_cast<int *>(std::malloc(begins.size() * sizeof(int)));
            if (*sizes && *starts) {
                std::memcpy(*sizes, found.data(), found.size() * sizeof(float));
                std::memcpy(*starts, begins.data(), begins.size() * sizeof(int));
                *count = static_cast<int>(found.size());
            }
        }
        *status = DOCFLOW_PDF_OK;
        return copy_out(text, length);
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *docflow_pdf_info(const docflow_pdf *pdf, const char *key) {
    try {
        std::unique_ptr<GooString> value = pdf->doc->getDocInfoStringEntry(key);
        if (!value) return nullptr;
        // PDFDocEncoding or UTF-16BE with a byte order mark, as PDF text strings are.
        Unicode *ucs4 = nullptr;
        int n = TextStringToUCS4(value->toStr(), &ucs4);
        std::string out;
        for (int i = 0; i < n; i++) put_utf8(out, ucs4[i]);
        gfree(ucs4);
        if (out.empty()) return nullptr;
        return copy_out(out, nullptr);
    } catch (...) {
        return nullptr;
    }
}
