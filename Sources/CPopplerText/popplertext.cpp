#include "popplertext.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

struct docflow_pdf {
    std::unique_ptr<poppler::document> doc;
};

namespace {
void quiet(const std::string &, void *) {}

char *copy_out(const poppler::byte_array &bytes, size_t *length) {
    char *out = static_cast<char *>(std::malloc(bytes.size() + 1));
    if (!out) return nullptr;
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    out[bytes.size()] = 0;
    if (length) *length = bytes.size();
    return out;
}
}  // namespace

extern "C" docflow_pdf *docflow_pdf_open(const char *data, size_t length, int *status) {
    static std::once_flag once;
    // poppler reports damaged objects on stderr; the reader reports failures itself.
    std::call_once(once, [] { poppler::set_debug_error_function(quiet, nullptr); });
    *status = DOCFLOW_PDF_DAMAGED;
    if (length > 0x7fffffff) return nullptr;
    try {
        std::unique_ptr<poppler::document> doc(
            poppler::document::load_from_raw_data(data, static_cast<int>(length), std::string(), std::string()));
        if (!doc) return nullptr;
        if (doc->is_locked()) {
            *status = DOCFLOW_PDF_PASSWORD;
            return nullptr;
        }
        *status = DOCFLOW_PDF_OK;
        return new docflow_pdf{std::move(doc)};
    } catch (...) {
        return nullptr;
    }
}

extern "C" void docflow_pdf_close(docflow_pdf *pdf) { delete pdf; }

extern "C" int docflow_pdf_page_count(const docflow_pdf *pdf) { return pdf->doc->pages(); }

extern "C" char *docflow_pdf_page_text(const docflow_pdf *pdf, int index, size_t *length) {
    try {
        std::unique_ptr<poppler::page> page(pdf->doc->create_page(index));
        if (!page) return nullptr;
        poppler::ustring text = page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout);
        return copy_out(text.to_utf8(), length);
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *docflow_pdf_info(const docflow_pdf *pdf, const char *key) {
    try {
        poppler::ustring value = pdf->doc->info_key(key);
        if (value.empty()) return nullptr;
        return copy_out(value.to_utf8(), nullptr);
    } catch (...) {
        return nullptr;
    }
}
