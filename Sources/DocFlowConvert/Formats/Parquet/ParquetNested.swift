import DocFlowCore
import DocFlowModel

/// A nested leaf's column chunk as read: its repetition and definition levels (one entry per
/// value slot, present or not) and the values that are present.
struct LeveledColumn {
    var repetition: [UInt16] = []
    var definition: [UInt16] = []
    var values: ColumnValues
    /// Per entry, the index of its value in `values`, or -1 where the entry holds none.
    var valueIndex: [Int32] = []
}

extension ColumnChunkReader {
    /// Bits of a level that goes up to `max`.
    static func levelWidth(_ max: Int) -> Int { max == 0 ? 0 : Int.bitWidth - max.leadingZeroBitCount }

    /// Reads every page of a nested leaf's chunk: `meta`'s value count of level entries.
    mutating func readLevels() throws -> LeveledColumn {
        var out = LeveledColumn(values: newColumn(capacity: 0))
        let (codec, first) = try chunkStart()
        let total = Int(meta.int(PQ.ColumnMetaData.numValues) ?? -1)
        guard total >= 0, total <= ParquetReader.maxCells else { throw ParquetEncoding.corrupt("column “\(leaf.name)” declares \(total) values") }
        let repWidth = Self.levelWidth(leaf.maxRepetition), defWidth = Self.levelWidth(leaf.maxDefinition)
        var pos = first
        while out.definition.count < total {
            guard pos < end else { throw ParquetEncoding.corrupt("column “\(leaf.name)” has fewer values than it declares") }
            let (header, body, uncompressed) = try self.page(at: &pos)
            var reps: [UInt64], defs: [UInt64], page: [UInt8], encoding: Int, c: ByteCursor
            let n: Int
            switch header.int(PQ.PageHeader.type) {
            case PQ.PageType.dictionaryPage?:
                try readDictionary(header, body, uncompressed, codec)
                continue
            case PQ.PageType.dataPage?:
                guard let h = header.structure(PQ.PageHeader.dataPageHeader) else { throw ParquetEncoding.corrupt("a data page has no header") }
                n = Int(h.int(PQ.DataPageHeader.numValues) ?? 0)
                guard n >= 0, n <= total - out.definition.count else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has more values than its column") }
                page = try codec.decompress(body, uncompressedSize: uncompressed)
                c = ByteCursor(page)
                func levels(_ width: Int) throws -> [UInt64] {
                    guard width > 0 else { return [UInt64](repeating: 0, count: n) }
                    let len = Int(try c.le32())
                    guard len <= c.remaining else { throw ParquetEncoding.corrupt("levels run past their page") }
                    var lc = ByteCursor(page, from: c.pos, to: c.pos + len)
                    c.pos += len
                    return try RLEDecoder.decode(&lc, width: width, count: n)
                }
                reps = try levels(repWidth)
                defs = try levels(defWidth)
                encoding = Int(h.int(PQ.DataPageHeader.encoding) ?? 0)
            case PQ.PageType.dataPageV2?:
                guard let h = header.structure(PQ.PageHeader.dataPageHeaderV2) else { throw ParquetEncoding.corrupt("a data page has no header") }
                n = Int(h.int(PQ.DataPageHeaderV2.numValues) ?? 0)
                guard n >= 0, n <= total - out.definition.count else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has more values than its column") }
                let defLen = Int(h.int(PQ.DataPageHeaderV2.definitionLevelsByteLength) ?? 0)
                let repLen = Int(h.int(PQ.DataPageHeaderV2.repetitionLevelsByteLength) ?? 0)
                guard defLen >= 0, repLen >= 0, defLen + repLen <= body.count else { throw ParquetEncoding.corrupt("page levels run past their page") }
                func levels(_ from: Int, _ len: Int, _ width: Int) throws -> [UInt64] {
                    guard width > 0 else { return [UInt64](repeating: 0, count: n) }
                    var lc = ByteCursor(bytes, from: from, to: from + len)
                    return try RLEDecoder.decode(&lc, width: width, count: n)
                }
                reps = try levels(body.startIndex, repLen, repWidth)
                defs = try levels(body.startIndex + repLen, defLen, defWidth)
                let valuesBody = body[(body.startIndex + repLen + defLen)...]
                let size = uncompressed - defLen - repLen
                if (h.bool(PQ.DataPageHeaderV2.isCompressed) ?? true) && !(size == 0 && valuesBody.isEmpty) {
                    page = try codec.decompress(valuesBody, uncompressedSize: size)
                } else {
                    page = Array(valuesBody)
                }
                c = ByteCursor(page)
                encoding = Int(h.int(PQ.DataPageHeaderV2.encoding) ?? 0)
            default:
                continue
            }
            guard reps.count == n, defs.count == n else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few levels") }
            let present = defs.reduce(0) { $0 + ($1 == UInt64(leaf.maxDefinition) ? 1 : 0) }
            let values = present == 0 ? newColumn(capacity: 0) : try decode(&c, count: present, encoding: encoding)
            guard values.count == present else { throw ParquetEncoding.corrupt("a page of “\(leaf.name)” has too few values") }
            var k = Int32(out.values.count)
            for (r, d) in zip(reps, defs) {
                guard r <= UInt64(leaf.maxRepetition), d <= UInt64(leaf.maxDefinition) else {
                    throw ParquetEncoding.corrupt("a level of “\(leaf.name)” is out of range")
                }
                out.repetition.append(UInt16(r))
                out.definition.append(UInt16(d))
                if d == UInt64(leaf.maxDefinition) { out.valueIndex.append(k); k += 1 } else { out.valueIndex.append(-1) }
            }
            out.values.append(contentsOf: values)
        }
        return out
    }
}

/// Rebuilds nested values (lists, maps, structs) from their leaves' levels, as JSON text: the
/// record assembly of Dremel, one top-level field at a time.
struct NestedAssembler {
    let field: ParquetNode
    /// The leaves' columns, indexed by leaf number (only the field's leaves are filled in).
    let columns: [Int: LeveledColumn]

    /// The field's value in each of `rows` rows: JSON text, or null where the field is absent.
    func assemble(rows: Int, name: String) throws -> ColumnValues {
        let leaves = field.leaves
        // Each leaf's entries, split into rows at repetition level 0.
        var starts: [Int: [Int]] = [:]
        for l in leaves {
            guard let col = columns[l] else { throw ParquetEncoding.corrupt("a leaf of “\(name)” is missing") }
            var s: [Int] = []
            s.reserveCapacity(rows + 1)
            for (e, r) in col.repetition.enumerated() where r == 0 { s.append(e) }
            guard s.count == rows, s.first ?? 0 == 0 else {
                throw ParquetEncoding.corrupt("the leaves of “\(name)” hold \(s.count) rows, their row group \(rows)")
            }
            s.append(col.definition.count)
            starts[l] = s
        }
        var out = ColumnValues(type: .json, capacity: rows)
        var text: [UInt8] = []
        for row in 0..<rows {
            var ranges: [Int: Range<Int>] = [:]
            for l in leaves { ranges[l] = starts[l]![row]..<starts[l]![row + 1] }
            if !field.repeated, !present(field, ranges) { out.appendNull(); continue }
            text.removeAll(keepingCapacity: true)
            try value(field, ranges, to: &text)
            out.append(utf8: text)
        }
        return out
    }

    /// Whether `n` is there in the slot `r` (its first leaf's first entry is defined that deep).
    private func present(_ n: ParquetNode, _ r: [Int: Range<Int>]) -> Bool {
        guard let lead = n.leaves.first, let range = r[lead], let col = columns[lead], !range.isEmpty else { return false }
        return Int(col.definition[range.lowerBound]) >= n.definition
    }

    /// The slot `r` of repeated node `n` split into its instances (none when the list is empty).
    private func instances(_ n: ParquetNode, _ r: [Int: Range<Int>]) throws -> [[Int: Range<Int>]] {
        guard present(n, r) else { return [] }
        var parts: [[Int: Range<Int>]] = []
        for l in n.leaves {
            let col = columns[l]!
            let range = r[l]!
            var cuts = [range.lowerBound]
            for e in range.dropFirst() where Int(col.repetition[e]) <= n.repetition { cuts.append(e) }
            cuts.append(range.upperBound)
            if parts.isEmpty { parts = Array(repeating: [:], count: cuts.count - 1) }
            guard parts.count == cuts.count - 1 else { throw ParquetEncoding.corrupt("the leaves of “\(field.name)” disagree on a list's length") }
            for k in 0..<parts.count { parts[k][l] = cuts[k]..<cuts[k + 1] }
        }
        return parts
    }

    /// Node `n` in slot `r`: a JSON array of its instances when it repeats, else one element.
    private func value(_ n: ParquetNode, _ r: [Int: Range<Int>], to out: inout [UInt8]) throws {
        guard n.repeated else { return try element(n, r, to: &out) }
        out.append(0x5B)
        for (k, inst) in try instances(n, r).enumerated() {
            if k > 0 { out.append(0x2C) }
            try element(n, inst, to: &out, instance: true)
        }
        out.append(0x5D)
    }

    /// One instance of `n` (null when it is optional and absent).
    private func element(_ n: ParquetNode, _ r: [Int: Range<Int>], to out: inout [UInt8], instance: Bool = false) throws {
        if !instance, !present(n, r) { out += Array("null".utf8); return }
        switch n.shape {
        case .leaf(let l):
            guard let col = columns[l], let range = r[l], !range.isEmpty else { out += Array("null".utf8); return }
            let v = col.valueIndex[range.lowerBound]
            if v < 0 { out += Array("null".utf8) } else { CellText.appendJSON(col.values, Int(v), to: &out) }
        case .group:
            try object(n.children, r, to: &out)
        case .list:
            guard n.children.count == 1, let rep = n.children.first, rep.repeated else { return try object(n.children, r, to: &out) }
            // The three-level list's element is the repeated group's one child; a repeated
            // primitive, a repeated group of several fields or one named `array` / `…_tuple` is
            // itself the element (the format's backward-compatibility rules).
            let legacy = rep.children.count != 1 || rep.name == "array" || rep.name == n.name + "_tuple"
            out.append(0x5B)
            for (k, inst) in try instances(rep, r).enumerated() {
                if k > 0 { out.append(0x2C) }
                if case .leaf = rep.shape { try element(rep, inst, to: &out, instance: true) }
                else if legacy { try object(rep.children, inst, to: &out) }
                else { try value(rep.children[0], inst, to: &out) }
            }
            out.append(0x5D)
        case .map:
            guard n.children.count == 1, let kv = n.children.first, kv.repeated, let key = kv.children.first else {
                return try object(n.children, r, to: &out)
            }
            // A map of keys without values is a set: an array of its keys, as pyarrow reads it.
            if kv.children.count == 1 {
                out.append(0x5B)
                for (k, inst) in try instances(kv, r).enumerated() {
                    if k > 0 { out.append(0x2C) }
                    try value(key, inst, to: &out)
                }
                out.append(0x5D)
                return
            }
            out.append(0x7B)
            for (k, inst) in try instances(kv, r).enumerated() {
                if k > 0 { out.append(0x2C) }
                var keyText: [UInt8] = []
                try value(key, inst, to: &keyText)
                if keyText.first == 0x22 { out += keyText } else { JSONText.appendQuoted(keyText, to: &out) }
                out.append(0x3A)
                try value(kv.children[1], inst, to: &out)
            }
            out.append(0x7D)
        }
    }

    private func object(_ children: [ParquetNode], _ r: [Int: Range<Int>], to out: inout [UInt8]) throws {
        out.append(0x7B)
        for (k, child) in children.enumerated() {
            if k > 0 { out.append(0x2C) }
            JSONText.appendQuoted(Array(child.name.utf8), to: &out)
            out.append(0x3A)
            try value(child, r, to: &out)
        }
        out.append(0x7D)
    }
}
