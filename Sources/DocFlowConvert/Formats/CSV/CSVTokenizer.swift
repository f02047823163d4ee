/// Splits RFC 4180 CSV into records of fields without copying: a field is a byte range of the
/// input, or of `scratch` when it had to be unescaped (doubled quotes, text after a closing quote).
struct CSVTokenizer {
    let text: UnsafeBufferPointer<UInt8>
    let delimiter: UInt8
    var pos = 0
    var line = 1
    /// The current record's fields: (start, end, in scratch, was quoted).
    var fields: [(Int, Int, Bool, Bool)] = []
    var scratch: [UInt8] = []

    init(_ text: UnsafeBufferPointer<UInt8>, delimiter: UInt8) {
        self.text = text
        self.delimiter = delimiter
        fields.reserveCapacity(64)
    }

    /// Reads the next non-blank record into `fields`; false at the end of the input.
    mutating func next() throws -> Bool {
        let n = text.count
        while pos < n {
            fields.removeAll(keepingCapacity: true)
            scratch.removeAll(keepingCapacity: true)
            var atRecordEnd = false
            while !atRecordEnd {
                try field(&atRecordEnd)
            }
            if fields.count == 1 && fields[0].0 == fields[0].1 && !fields[0].3 { continue }  // a blank line
            return true
        }
        return false
    }

    /// One field, ending at a delimiter (consumed), a line end (consumed) or the end of input.
    private mutating func field(_ recordEnd: inout Bool) throws {
        let n = text.count
        let start = pos
        if pos < n && text[pos] == 0x22 {
            let quoteLine = line
            pos += 1
            let contentStart = pos
            var escaped = false
            var closed = false
            while pos < n {
                let c = text[pos]
                if c == 0x22 {
                    if pos + 1 < n && text[pos + 1] == 0x22 { escaped = true; pos += 2; continue }
                    closed = true
                    break
                }
                if c == 0x0A { line += 1 }
                pos += 1
            }
            guard closed else {
                throw ConversionError(.malformedInput, "Malformed CSV: the quoted field that starts on line \(quoteLine) is never closed.")
            }
            let contentEnd = pos
            pos += 1  // closing quote
            // Text after the closing quote (`"a"b`) is kept, as the old reader and most tools do.
            var tailStart = pos
            while pos < n, text[pos] != delimiter, text[pos] != 0x0A, text[pos] != 0x0D { pos += 1 }
            if escaped || pos > tailStart {
                let s = scratch.count
                var i = contentStart
                while i < contentEnd {
                    scratch.append(text[i])
                    i += text[i] == 0x22 ? 2 : 1
                }
                while tailStart < pos { scratch.append(text[tailStart]); tailStart += 1 }
                fields.append((s, scratch.count, true, true))
            } else {
                fields.append((contentStart, contentEnd, false, true))
            }
        } else {
            while pos < n {
                let c = text[pos]
                if c == delimiter || c == 0x0A || c == 0x0D { break }
                pos += 1
            }
            fields.append((start, pos, false, false))
        }
        if pos >= n { recordEnd = true; return }
        let c = text[pos]
        pos += 1
        if c == delimiter { return }
        if c == 0x0D && pos < n && text[pos] == 0x0A { pos += 1 }
        line += 1
        recordEnd = true
    }

    /// Whether field `i` of the current record was quoted (`""` is an empty string, nothing is null).
    @inline(__always) func isQuoted(_ i: Int) -> Bool { fields[i].3 }

    /// Calls `body` with the bytes of field `i` of the current record.
    @inline(__always)
    func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let (s, e, inScratch, _) = fields[i]
        if inScratch {
            return try scratch.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[s..<e])) }
        }
        return try body(UnsafeBufferPointer(rebasing: text[s..<e]))
    }
}
