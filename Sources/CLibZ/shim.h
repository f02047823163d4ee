// zlib, for the CRC-32 of the entries of the ZIP archives fcgi-app streams (DocFlowWeb's
// ZipStream). fcgi-app already loads libz through libpq and libcurl: this adds no library.
#include <zlib.h>
