/// The pages of a column chunk: PLAIN values, dictionary pages, definition levels, compression.
extension ColumnChunkWriter {
    /// Dictionary encoding is tried for strings and given up past this many distinct values or bytes.
    static let maxDictionaryEntries = 65_536
    static let maxDictionaryBytes = 1 << 20

    func emit(_ values: Values, defs: [UInt32], to out: inout [UInt8]) -> ChunkMeta {
        let nulls = Int64(defs.lazy.filter { $0 == 0 }.count)
        var meta = ChunkMeta(kind: kind, name: name, codec: codec, values: Int64(defs.count), nulls: nulls,
                             uncompressedSize: 0, compressedSize: 0, dataPageOffset: 0, dictionaryPageOffset: nil)
        (meta.min, meta.max) = Self.statistics(values)
        let start = out.count
        var dictIndices: [UInt32]? = nil
        if case .bytes(let strings) = values, let (dict, indices) = Self.dictionary(strings) {
            meta.dictionaryPageOffset = Int64(out.count)
            var body: [UInt8] = []
            for s in dict { Self.appendLE(UInt32(s.count), to: &body); body += s }
            writePage(type: 2, body: body, header: { w in
                w.structure(7) { w in
                    w.i32(1, dict.count)
                    w.i32(2, ParquetEncoding.plain)
                }
            }, meta: &meta, to: &out)
            dictIndices = indices
        }
        meta.dataPageOffset = Int64(out.count)
        var valueIndex = 0
        var rowIndex = 0
        repeat {
            let rowEnd = min(rowIndex + Self.pageRows, defs.count)
            let pageDefs = defs[rowIndex..<rowEnd]
            let present = pageDefs.lazy.filter { $0 == 1 }.count
            var body: [UInt8] = []
            let levels = RLEEncoder.encode(Array(pageDefs), width: 1)
            Self.appendLE(UInt32(levels.count), to: &body)
            body += levels
            let encoding: Int
            if let indices = dictIndices {
                let slice = Array(indices[valueIndex..<valueIndex + present])
                let maxIndex = indices.max() ?? 0
                let width = maxIndex == 0 ? 0 : 32 - maxIndex.leadingZeroBitCount
                body.append(UInt8(max(width, 1)))
                body += RLEEncoder.encode(slice, width: max(width, 1))
                encoding = ParquetEncoding.rleDictionary
            } else {
                Self.plain(values, valueIndex..<valueIndex + present, to: &body)
                encoding = ParquetEncoding.plain
            }
            writePage(type: 0, body: body, header: { w in
                w.structure(5) { w in
                    w.i32(1, pageDefs.count)
                    w.i32(2, encoding)
                    w.i32(3, ParquetEncoding.rle)
                    w.i32(4, ParquetEncoding.rle)
                }
            }, meta: &meta, to: &out)
            valueIndex += present
            rowIndex = rowEnd
        } while rowIndex < defs.count
        meta.compressedSize = Int64(out.count - start)
        return meta
    }

    private func writePage(type: Int, body: [UInt8], header: (inout Thrift.Writer) -> Void,
                           meta: inout ChunkMeta, to out: inout [UInt8]) {
        let compressed = codec.compress(body)
        var w = Thrift.Writer()
        w.i32(1, type)
        w.i32(2, body.count)
        w.i32(3, compressed.count)
        header(&w)
        let h = w.finish()
        out += h
        out += compressed
        meta.uncompressedSize += Int64(h.count + body.count)
    }

    static func appendLE(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
    }

    static func appendLE(_ v: UInt64, to out: inout [UInt8]) {
        appendLE(UInt32(truncatingIfNeeded: v), to: &out)
        appendLE(UInt32(truncatingIfNeeded: v >> 32), to: &out)
    }

    static func plain(_ values: Values, _ range: Range<Int>, to out: inout [UInt8]) {
        switch values {
        case .ints(let v): for x in v[range] { appendLE(UInt64(bitPattern: x), to: &out) }
        case .doubles(let v): for x in v[range] { appendLE(x.bitPattern, to: &out) }
        case .dates(let v): for x in v[range] { appendLE(UInt32(bitPattern: x), to: &out) }
        case .bools(let v):
            var byte: UInt8 = 0
            var bit = 0
            for x in v[range] {
                if x { byte |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 { out.append(byte); byte = 0; bit = 0 }
            }
            if bit > 0 { out.append(byte) }
        case .bytes(let v): for x in v[range] { appendLE(UInt32(x.count), to: &out); out += x }
        }
    }

    /// Distinct strings in first-seen order and each value's index, or nil when a dictionary
    /// would be too big or would not pay (mostly distinct values).
    static func dictionary(_ strings: [[UInt8]]) -> ([[UInt8]], [UInt32])? {
        var index: [[UInt8]: UInt32] = [:]
        var dict: [[UInt8]] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(strings.count)
        var bytes = 0
        for s in strings {
            if let i = index[s] { indices.append(i); continue }
            let i = UInt32(dict.count)
            index[s] = i
            dict.append(s)
            bytes += s.count + 4
            if dict.count > maxDictionaryEntries || bytes > maxDictionaryBytes { return nil }
            indices.append(i)
        }
        if dict.count > 1_000 && dict.count * 2 > strings.count { return nil }
        return (dict, indices)
    }

    /// PLAIN-encoded min and max (strings by unsigned byte order; NaN ignored; long strings skipped).
    static func statistics(_ values: Values) -> ([UInt8]?, [UInt8]?) {
        func enc(_ body: (inout [UInt8]) -> Void) -> [UInt8] { var b: [UInt8] = []; body(&b); return b }
        switch values {
        case .ints(let v):
            guard let mn = v.min(), let mx = v.max() else { return (nil, nil) }
            return (enc { appendLE(UInt64(bitPattern: mn), to: &$0) }, enc { appendLE(UInt64(bitPattern: mx), to: &$0) })
        case .doubles(let v):
            let finite = v.lazy.filter { !$0.isNaN }
            guard let mn = finite.min(), let mx = finite.max() else { return (nil, nil) }
            return (enc { appendLE((mn == 0 ? -0.0 : mn).bitPattern, to: &$0) }, enc { appendLE((mx == 0 ? 0.0 : mx).bitPattern, to: &$0) })
        case .dates(let v):
            guard let mn = v.min(), let mx = v.max() else { return (nil, nil) }
            return (enc { appendLE(UInt32(bitPattern: mn), to: &$0) }, enc { appendLE(UInt32(bitPattern: mx), to: &$0) })
        case .bools(let v):
            guard !v.isEmpty else { return (nil, nil) }
            return ([v.contains(false) ? 0 : 1], [v.contains(true) ? 1 : 0])
        case .bytes(let v):
            guard var mn = v.first, var mx = v.first else { return (nil, nil) }
            for s in v.dropFirst() {
                if s.lexicographicallyPrecedes(mn) { mn = s }
                if mx.lexicographicallyPrecedes(s) { mx = s }
            }
            return mn.count <= 64 && mx.count <= 64 ? (mn, mx) : (nil, nil)
        }
    }
}
