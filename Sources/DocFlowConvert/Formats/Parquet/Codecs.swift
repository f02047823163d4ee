import CCompression

/// Parquet's compression codecs, on Debian's libraries: snappy, gzip (zlib), zstd, LZ4 (raw and
/// Hadoop-framed) and brotli (read only). Every decompression is bounded by the page's declared
/// uncompressed size, so a page cannot inflate past what its header admits.
enum ParquetCodec: Int, Sendable {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7

    var name: String {
        ["none", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd", "lz4_raw"][rawValue]
    }

    /// The codec for the `compression` option.
    static func named(_ name: String) -> ParquetCodec? {
        switch name.lowercased() {
        case "none", "uncompressed": return .uncompressed
        case "snappy": return .snappy
        case "gzip": return .gzip
        case "zstd": return .zstd
        default: return nil
        }
    }

    private func failed(_ why: String) -> ConversionError {
        ConversionError(.malformedInput, "A \(name)-compressed Parquet page could not be decompressed (\(why)).")
    }

    func compress(_ input: [UInt8], level: Int32 = 0) -> [UInt8] {
        switch self {
        case .snappy:
            if input.isEmpty { return [0] }  // a zero varint length, nothing else
            var outLen = snappy_max_compressed_length(input.count)
            var out = [UInt8](repeating: 0, count: outLen)
            let status = input.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    src.baseAddress!.withMemoryRebound(to: CChar.self, capacity: src.count) { s in
                        dst.baseAddress!.withMemoryRebound(to: CChar.self, capacity: dst.count) { d in
                            snappy_compress(s, src.count, d, &outLen)
                        }
                    }
                }
            }
            precondition(status == SNAPPY_OK, "snappy_compress cannot fail with a large enough buffer")
            out.removeSubrange(outLen...)
            return out
        case .zstd:
            var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
            let n = out.withUnsafeMutableBytes { d in
                input.withUnsafeBytes { s in ZSTD_compress(d.baseAddress, d.count, s.baseAddress, s.count, level == 0 ? 1 : level) }
            }
            precondition(ZSTD_isError(n) == 0, "ZSTD_compress cannot fail with a large enough buffer")
            out.removeSubrange(n...)
            return out
        case .gzip:
            return deflateGzip(input, level: level == 0 ? 6 : level)
        default:
            return input
        }
    }

    func decompress(_ input: ArraySlice<UInt8>, uncompressedSize: Int) throws -> [UInt8] {
        guard uncompressedSize >= 0, uncompressedSize <= 1 << 31 else { throw failed("its declared size is impossible") }
        if self == .uncompressed {
            guard input.count == uncompressedSize else { throw failed("its sizes disagree") }
            return Array(input)
        }
        var out = [UInt8](repeating: 0, count: uncompressedSize)
        let produced: Int = try input.withUnsafeBytes { src in
            try out.withUnsafeMutableBytes { dst -> Int in
                try decode(src, into: dst)
            }
        }
        guard produced == uncompressedSize else { throw failed("it holds \(produced) bytes, its header says \(uncompressedSize)") }
        return out
    }

    private func decode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        let s = src.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let d = dst.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        switch self {
        case .snappy:
            var len = 0
            guard snappy_uncompressed_length(s.assumingMemoryBound(to: CChar.self), src.count, &len) == SNAPPY_OK,
                  len <= dst.count else { throw failed("bad snappy header") }
            var outLen = dst.count
            guard snappy_uncompress(s.assumingMemoryBound(to: CChar.self), src.count,
                                    d.assumingMemoryBound(to: CChar.self), &outLen) == SNAPPY_OK else { throw failed("bad snappy data") }
            return outLen
        case .zstd:
            let n = ZSTD_decompress(d, dst.count, s, src.count)
            guard ZSTD_isError(n) == 0 else { throw failed(String(cString: ZSTD_getErrorName(n))) }
            return n
        case .gzip:
            return try inflateAny(src, into: dst)
        case .lz4Raw:
            let n = LZ4_decompress_safe(s.assumingMemoryBound(to: CChar.self), d.assumingMemoryBound(to: CChar.self),
                                        Int32(src.count), Int32(dst.count))
            guard n >= 0 else { throw failed("bad LZ4 data") }
            return Int(n)
        case .lz4:
            // The old LZ4 codec is Hadoop's framing in practice: blocks of [u32 BE raw size][u32 BE
            // compressed size][LZ4 block]; some writers used a bare LZ4 block instead.
            if let n = hadoopLZ4(src, into: dst) { return n }
            let n = LZ4_decompress_safe(s.assumingMemoryBound(to: CChar.self), d.assumingMemoryBound(to: CChar.self),
                                        Int32(src.count), Int32(dst.count))
            guard n >= 0 else { throw failed("bad LZ4 data") }
            return Int(n)
        case .brotli:
            var outLen = dst.count
            guard BrotliDecoderDecompress(src.count, s.assumingMemoryBound(to: UInt8.self), &outLen,
                                          d.assumingMemoryBound(to: UInt8.self)) == BROTLI_DECODER_RESULT_SUCCESS else {
                throw failed("bad brotli data")
            }
            return outLen
        case .lzo:
            throw ConversionError(.unsupportedConversion, "LZO-compressed Parquet files are not supported (no Debian library decodes Parquet's LZO).")
        case .uncompressed:
            return 0
        }
    }

    private func hadoopLZ4(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Int? {
        func be32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(src[at + $1]) } }
        var i = 0, o = 0
        while i < src.count {
            guard src.count - i >= 8 else { return nil }
            let raw = be32(i), comp = be32(i + 4)
            i += 8
            guard comp <= src.count - i, raw <= dst.count - o else { return nil }
            let n = LZ4_decompress_safe(src.baseAddress!.advanced(by: i).assumingMemoryBound(to: CChar.self),
                                        dst.baseAddress!.advanced(by: o).assumingMemoryBound(to: CChar.self),
                                        Int32(comp), Int32(raw))
            guard n == raw else { return nil }
            i += comp
            o += raw
        }
        return o
    }

    private func inflateAny(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws -> Int {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw failed("zlib init") }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(src.count)
        stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(dst.count)
        while true {
            let rc = inflate(&stream, Z_FINISH)
            if rc == Z_STREAM_END {
                // Concatenated gzip members (some writers emit them): go on with the next one.
                // inflateReset zeroes total_out, so what was produced is counted from avail_out.
                if stream.avail_in > 0 && stream.avail_out > 0 { guard inflateReset(&stream) == Z_OK else { break }; continue }
                break
            }
            guard rc == Z_OK || rc == Z_BUF_ERROR, stream.avail_out > 0 else {
                if rc == Z_BUF_ERROR || rc == Z_OK { break }
                throw failed("bad gzip data")
            }
        }
        return dst.count - Int(stream.avail_out)
    }

    private func deflateGzip(_ input: [UInt8], level: Int32) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                   Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let n: Int = input.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { d in
                stream.next_in = UnsafeMutablePointer(mutating: s.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(s.count)
                stream.next_out = d.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(d.count)
                let rc = deflate(&stream, Z_FINISH)
                precondition(rc == Z_STREAM_END, "deflate with a deflateBound buffer finishes in one call")
                return Int(stream.total_out)
            }
        }
        out.removeSubrange(n...)
        return out
    }
}
