// libxml2 next to Foundation: with ICU enabled, libxml2's headers pull in ICU's UErrorCode, which
// clashes with Foundation's copy on a clean build (PLATFORM-NOTES 1). Doc Flow uses none of it.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>

/// xmlFree is a C global function pointer, "not concurrency-safe" to Swift 6 (PLATFORM-NOTES 2).
static inline void CLibXML2_free(void *p) { xmlFree(p); }
