// A C face on poppler's text extraction — the TextOutputDev that pdftotext drives, with the same
// settings — so Swift gets pdftotext's reading order, line and block breaks in UTF-8 without C++
// interop.
#ifndef DOCFLOW_POPPLERTEXT_H
#define DOCFLOW_POPPLERTEXT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct docflow_pdf docflow_pdf;

enum { DOCFLOW_PDF_OK = 0, DOCFLOW_PDF_DAMAGED = 1, DOCFLOW_PDF_PASSWORD = 2, DOCFLOW_PDF_TIMEOUT = 3 };

/// Opens a PDF held in memory (not copied: `data` must outlive the handle). An empty user
/// password is tried for encrypted files. NULL with `*status` set on failure.
docflow_pdf *docflow_pdf_open(const char *data, size_t length, int *status);
void docflow_pdf_close(docflow_pdf *pdf);
int docflow_pdf_page_count(const docflow_pdf *pdf);
/// The page's text in reading order (lines end with \n, blocks with a blank line, the page with
/// a form feed), malloc'd UTF-8 for free(). Interpreting the page stops once `seconds` have
/// passed: NULL with `*status` DOCFLOW_PDF_TIMEOUT. NULL with DOCFLOW_PDF_DAMAGED when the page
/// cannot be read. `*sizes` and `*starts` (malloc'd, `*count` long) get each written line's
/// largest font size and whether it begins a text block.
char *docflow_pdf_page_text(const docflow_pdf *pdf, int index, double seconds, size_t *length, int *status,
                            float **sizes, int **starts, int *count);
/// Image XObjects used by the pages (each shared image once; inline images not counted), or -1.
int docflow_pdf_image_count(const docflow_pdf *pdf);
/// An Info dictionary entry ("Title", "Author", …) as malloc'd UTF-8, or NULL when absent.
char *docflow_pdf_info(const docflow_pdf *pdf, const char *key);

#ifdef __cplusplus
}
#endif
#endif
