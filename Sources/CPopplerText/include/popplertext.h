// A C face on poppler's C++ text extraction (the TextOutputDev that pdftotext uses), so Swift
// gets pdftotext's reading order, line and block breaks without C++ interop.
#ifndef DOCFLOW_POPPLERTEXT_H
#define DOCFLOW_POPPLERTEXT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct docflow_pdf docflow_pdf;

enum { DOCFLOW_PDF_OK = 0, DOCFLOW_PDF_DAMAGED = 1, DOCFLOW_PDF_PASSWORD = 2 };

/// Opens a PDF held in memory (not copied: `data` must outlive the handle). An empty user
/// password is tried for encrypted files. NULL with `*status` set on failure.
docflow_pdf *docflow_pdf_open(const char *data, size_t length, int *status);
void docflow_pdf_close(docflow_pdf *pdf);
int docflow_pdf_page_count(const docflow_pdf *pdf);
/// The page's text in reading order (lines end with \n, blocks with a blank line), malloc'd
/// UTF-8 for free(); NULL when the page is missing.
char *docflow_pdf_page_text(const docflow_pdf *pdf, int index, size_t *length);
/// An Info dictionary entry ("Title", "Author", …) as malloc'd UTF-8, or NULL when absent.
char *docflow_pdf_info(const docflow_pdf *pdf, const char *key);

#ifdef __cplusplus
}
#endif
#endif
