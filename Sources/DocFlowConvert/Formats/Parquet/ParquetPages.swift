import DocFlowModel

/// The pages of a column chunk: PLAIN values, dictionary pages, definition levels, compression.
extension ColumnChunkWriter {
    /// Dictionary encoding is tried for strings and given up past this many distinct values or bytes.
    static let maxDictionaryEntries = 65_536
    static let maxDictionaryBytes = 1 << 20

    /// The rows holding values: the slice itself when nothing is null.
    struct Present {
        let rows: Range<Int>
        let list: [Int]?
        var count: Int { list?.count ?? rows.count }
        @inline(__always) subscript(k: Int) -> Int { list?[k] ?? rows.lowerBound + k }
    }

    func emit(_ slice: Slice, present list: [Int]?, defs: [UInt32], to out: inout [UInt8]) -> ChunkMeta {
        let v = slice.values
        let present = Present(rows: slice.rows, list: list)
        let nulls = Int64(defs.count - present.count)
        var meta = ChunkMeta(kind: kind, name: name, codec: codec, values: Int64(defs.count), nulls: nulls,
                             uncompressedSize: 0, compressedSize: 0, dataPageOffset: 0, dictionaryPageOffset: nil)
        (meta.min, meta.max) = Self.statistics(v, present)
        let start = out.count
        var dictIndices: [UInt32]? = nil
        if v.type.holdsBytes, let (dict, indices) = Self.dictionary(v, present) {
            meta.dictionaryPageOffset = Int64(out.count)
            var body: [UInt8] = []
            for (s, e) in dict { Self.appendLE(UInt32(e - s), to: &body); body += v.bytes[s..<e] }
            writePage(type: Int(PQ.PageType.dictionaryPage), body: body, header: { w in
                w.structure(PQ.PageHeader.dictionaryPageHeader) { w in
                    w.i32(PQ.DictionaryPageHeader.numValues, dict.count)
                    w.i32(PQ.DictionaryPageHeader.encoding, ParquetEncoding.plain)
                }
            }, meta: &meta, to: &out)
            dictIndices = indices
        }
        let width = max(1, 32 - ((dictIndices?.max() ?? 0).leadingZeroBitCount))
        meta.dataPageOffset = Int64(out.count)
        var valueIndex = 0
        var rowIndex = 0
        var body: [UInt8] = []
        repeat {
            let rowEnd = min(rowIndex + Self.pageRows, defs.count)
            let pageDefs = defs[rowIndex..<rowEnd]
            let count = list == nil ? pageDefs.count : pageDefs.reduce(0) { $0 + Int($1) }
            body.removeAll(keepingCapacity: true)
            let levels = RLEEncoder.encode(Array(pageDefs), width: 1)
            Self.appendLE(UInt32(levels.count), to: &body)
            body += levels
            let encoding: Int
            if let indices = dictIndices {
                body.append(UInt8(width))
                body += RLEEncoder.encode(Array(indices[valueIndex..<valueIndex + count]), width: width)
                encoding = ParquetEncoding.rleDictionary
            } else {
                Self.plain(v, present, valueIndex..<valueIndex + count, to: &body)
                encoding = ParquetEncoding.plain
            }
            writePage(type: Int(PQ.PageType.dataPage), body: body, header: { w in
                w.structure(PQ.PageHeader.dataPageHeader) { w in
                    w.i32(PQ.DataPageHeader.numValues, pageDefs.count)
                    w.i32(PQ.DataPageHeader.encoding, encoding)
                    w.i32(PQ.DataPageHeader.definitionLevelEncoding, ParquetEncoding.rle)
                    w.i32(PQ.DataPageHeader.repetitionLevelEncoding, ParquetEncoding.rle)
                }
            }, meta: &meta, to: &out)
            valueIndex += count
            rowIndex = rowEnd
        } while rowIndex < defs.count
        meta.compressedSize = Int64(out.count - start)
        return meta
    }

    private func writePage(type: Int, body: [UInt8], header: (inout Thrift.Writer) -> Void,
                           meta: inout ChunkMeta, to out: inout [UInt8]) {
        let compressed = codec.compress(body)
        var w = Thrift.Writer()
        w.i32(PQ.PageHeader.type, type)
        w.i32(PQ.PageHeader.uncompressedPageSize, body.count)
        w.i32(PQ.PageHeader.compressedPageSize, compressed.count)
        header(&w)
        let h = w.finish()
        out += h
        out += compressed
        meta.uncompressedSize += Int64(h.count + body.count)
    }

    @inline(__always) static func appendLE(_ v: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always) static func appendLE(_ v: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Values `range` of the present sequence, PLAIN-encoded.
    static func plain(_ v: ColumnValues, _ p: Present, _ range: Range<Int>, to out: inout [UInt8]) {
        func copy<T>(_ a: [T]) {
            if p.list == nil {
                let lo = p.rows.lowerBound + range.lowerBound
                a.withUnsafeBytes { raw in
                    let stride = MemoryLayout<T>.stride
                    out.append(contentsOf: raw[(lo * stride)..<((lo + range.count) * stride)])
                }
            } else {
                for k in range { withUnsafeBytes(of: a[p[k]]) { out.append(contentsOf: $0) } }
            }
        }
        switch v.type {
        case .int64, .timestamp: copy(v.ints)
        case .double: copy(v.doubles)
        case .date: copy(v.days)
        case .boolean:
            var byte: UInt8 = 0
            var bit = 0
            for k in range {
                if v.bools[p[k]] { byte |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 { out.append(byte); byte = 0; bit = 0 }
            }
            if bit > 0 { out.append(byte) }
        case .string, .binary, .json:
            for k in range {
                let r = p[k]
                let s = v.offsets[r], e = v.offsets[r + 1]
                appendLE(UInt32(e - s), to: &out)
                out.append(contentsOf: v.bytes[s..<e])
            }
        }
    }

    /// Distinct strings (as byte ranges) in first-seen order and each value's index, or nil when a
    /// dictionary would be too big or would not pay (mostly distinct values).
    static func dictionary(_ v: ColumnValues, _ p: Present) -> ([(Int, Int)], [UInt32])? {
        var dict: [(Int, Int)] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(p.count)
        var slots = [Int32](repeating: -1, count: 1 << 12)
        var mask = slots.count - 1
        var hashes: [UInt64] = []
        var bytes = 0
        return v.bytes.withUnsafeBufferPointer { buf -> ([(Int, Int)], [UInt32])? in
            func hash(_ s: Int, _ e: Int) -> UInt64 {
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                for i in s..<e { h = (h ^ UInt64(buf[i])) &* 0x100_0000_01b3 }
                return h
            }
            func equal(_ a: (Int, Int), _ s: Int, _ e: Int) -> Bool {
                guard a.1 - a.0 == e - s else { return false }
                return memcmpEqual(buf.baseAddress, a.0, s, e - s)
            }
            for k in 0..<p.count {
                let r = p[k]
                let s = v.offsets[r], e = v.offsets[r + 1]
                let h = hash(s, e)
                var slot = Int(truncatingIfNeeded: h) & mask
                while true {
                    let entry = slots[slot]
                    if entry < 0 {
                        let i = dict.count
                        dict.append((s, e))
                        hashes.append(h)
                        bytes += e - s + 4
                        if dict.count > maxDictionaryEntries || bytes > maxDictionaryBytes { return nil }
                        slots[slot] = Int32(i)
                        indices.append(UInt32(i))
                        if dict.count * 2 > slots.count {  // grow and rehash
                            slots = [Int32](repeating: -1, count: slots.count * 2)
                            mask = slots.count - 1
                            for (j, hj) in hashes.enumerated() {
                                var sl = Int(truncatingIfNeeded: hj) & mask
                                while slots[sl] >= 0 { sl = (sl + 1) & mask }
                                slots[sl] = Int32(j)
                            }
                        }
                        break
                    }
                    if hashes[Int(entry)] == h && equal(dict[Int(entry)], s, e) { indices.append(UInt32(entry)); break }
                    slot = (slot + 1) & mask
                }
            }
            if dict.count > 1_000 && dict.count * 2 > p.count { return nil }
            return (dict, indices)
        }
    }

    /// PLAIN-encoded min and max (strings by unsigned byte order; NaN ignored; long strings skipped).
    static func statistics(_ v: ColumnValues, _ p: Present) -> ([UInt8]?, [UInt8]?) {
        guard p.count > 0 else { return (nil, nil) }
        func le<T>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x) { Array($0) } }
        switch v.type {
        case .int64, .timestamp:
            var mn = Int64.max, mx = Int64.min
            for k in 0..<p.count { let x = v.ints[p[k]]; mn = min(mn, x); mx = max(mx, x) }
            return (le(mn.littleEndian), le(mx.littleEndian))
        case .date:
            var mn = Int32.max, mx = Int32.min
            for k in 0..<p.count { let x = v.days[p[k]]; mn = min(mn, x); mx = max(mx, x) }
            return (le(mn.littleEndian), le(mx.littleEndian))
        case .double:
            var mn = Double.infinity, mx = -Double.infinity
            var any = false
            for k in 0..<p.count { let x = v.doubles[p[k]]; if !x.isNaN { mn = min(mn, x); mx = max(mx, x); any = true } }
            guard any else { return (nil, nil) }
            return (le((mn == 0 ? -0.0 : mn).bitPattern.littleEndian), le((mx == 0 ? 0.0 : mx).bitPattern.littleEndian))
        case .boolean:
            var t = false, f = false
            for k in 0..<p.count { if v.bools[p[k]] { t = true } else { f = true } }
            return ([f ? 0 : 1], [t ? 1 : 0])
        case .string, .binary, .json:
            var mn = v.utf8(at: p[0]), mx = mn
            for k in 1..<p.count {
                let s = v.utf8(at: p[k])
                if s.lexicographicallyPrecedes(mn) { mn = s }
                if mx.lexicographicallyPrecedes(s) { mx = s }
            }
            return mn.count <= 64 && mx.count <= 64 ? (Array(mn), Array(mx)) : (nil, nil)
        }
    }
}

@inline(__always)
private func memcmpEqual(_ base: UnsafePointer<UInt8>?, _ a: Int, _ b: Int, _ n: Int) -> Bool {
    guard n > 0, let base = base else { return true }
    var i = 0
    while i < n {
        if base[a + i] != base[b + i] { return false }
        i += 1
    }
    return true
}
