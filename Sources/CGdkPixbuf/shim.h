// gdk-pixbuf decodes the PNG, JPEG and GIF images that PDF output embeds.
#include <gdk-pixbuf/gdk-pixbuf.h>
