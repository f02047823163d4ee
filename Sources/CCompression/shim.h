// The codecs Parquet pages use: snappy (its C API), zstd, zlib (gzip), lz4 and brotli (decode).
#include <snappy-c.h>
#include <zstd.h>
#include <zlib.h>
#include <lz4.h>
#include <brotli/decode.h>
