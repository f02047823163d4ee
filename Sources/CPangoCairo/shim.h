// Pango lays text out (shaping, font fallback, line breaking); cairo's PDF surface writes it as
// real text with embedded font subsets, link annotations, outlines and document metadata.
#include <pango/pangocairo.h>
#include <cairo/cairo-pdf.h>
