/// A JSON value as the table reader needs it: integers and doubles kept apart, integers past
/// Int64 and numbers past Double kept as their text, object keys in document order.
indirect enum JSONNode: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    /// A number no machine type holds exactly (a 30-digit integer, 1e999).
    case bigNumber(String)
    case string(String)
    case array([JSONNode])
    case object([(String, JSONNode)])

    static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.bigNumber(let x), .bigNumber(let y)), (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// RFC 8259 JSON without recursion (an explicit stack, bounded depth), so 500,000 nested arrays
/// fail with a message instead of overflowing the stack. Errors give the line and column.
struct JSONParser {
    static let maxDepth = 512

    let bytes: [UInt8]
    var pos = 0

    init(_ bytes: [UInt8], from: Int = 0) {
        self.bytes = bytes
        pos = from
    }

    func error(_ what: String, at p: Int? = nil) -> ConversionError {
        let at = min(p ?? pos, bytes.count)
        var line = 1, col = 1
        for b in bytes[0..<at] { if b == 0x0A { line += 1; col = 1 } else if b & 0xC0 != 0x80 { col += 1 } }
        return ConversionError(.malformedInput, "Invalid JSON at line \(line), column \(col): \(what).")
    }

    mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
    }

    var atEnd: Bool { mutating get { skipSpace(); return pos >= bytes.count } }

    /// Parses one value starting at `pos`. Open containers live on typed stacks mutated in place
    /// (an enum frame popped, appended to and pushed back copies its array: quadratic).
    mutating func parseValue() throws -> JSONNode {
        var isArray: [Bool] = []
        var arrays: [[JSONNode]] = []
        var objects: [[(String, JSONNode)]] = []
        var keys: [String] = []
        while true {
            skipSpace()
            guard pos < bytes.count else { throw error(isArray.isEmpty ? "the document is empty" : "the document ends inside a value") }
            var value: JSONNode
            let b = bytes[pos]
            switch b {
            case 0x5B:  // [
                pos += 1
                guard isArray.count < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
                skipSpace()
                if pos < bytes.count && bytes[pos] == 0x5D { pos += 1; value = .array([]) } else {
                    isArray.append(true)
                    arrays.append([])
                    continue
                }
            case 0x7B:  // {
                pos += 1
                guard isArray.count < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
                skipSpace()
                if pos < bytes.count && bytes[pos] == 0x7D { pos += 1; value = .object([]) } else {
                    isArray.append(false)
                    objects.append([])
                    keys.append(try key())
                    continue
                }
            case 0x22: value = .string(try string())
            case 0x74: try literal("true"); value = .bool(true)
            case 0x66: try literal("false"); value = .bool(false)
            case 0x6E: try literal("null"); value = .null
            case 0x2D, 0x30...0x39: value = try number()
            default: throw error("unexpected character “\(String(decoding: [b], as: UTF8.self))”")
            }
            // Attach the value to its container, closing every container that ends here.
            while true {
                guard let array = isArray.last else { return value }
                skipSpace()
                if array {
                    arrays[arrays.count - 1].append(value)
                    guard pos < bytes.count else { throw error("an array is not closed") }
                    if bytes[pos] == 0x2C { pos += 1; break }
                    guard bytes[pos] == 0x5D else { throw error("expected , or ] in an array") }
                    pos += 1
                    isArray.removeLast()
                    value = .array(arrays.removeLast())
                } else {
                    objects[objects.count - 1].append((keys.removeLast(), value))
                    guard pos < bytes.count else { throw error("an object is not closed") }
                    if bytes[pos] == 0x2C {
                        pos += 1
                        keys.append(try key())
                        break
                    }
                    guard bytes[pos] == 0x7D else { throw error("expected , or } in an object") }
                    pos += 1
                    isArray.removeLast()
                    value = .object(objects.removeLast())
                }
            }
        }
    }

    private mutating func key() throws -> String {
        skipSpace()
        guard pos < bytes.count, bytes[pos] == 0x22 else { throw error("expected a quoted key") }
        let k = try string()
        skipSpace()
        guard pos < bytes.count, bytes[pos] == 0x3A else { throw error("expected : after a key") }
        pos += 1
        return k
    }

    private mutating func literal(_ word: StaticString) throws {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - pos >= w.count, bytes[pos..<pos + w.count].elementsEqual(w) else { throw error("unexpected word") }
        pos += w.count
    }

    private mutating func number() throws -> JSONNode {
        let start = pos
        if bytes[pos] == 0x2D { pos += 1 }
        func digits() -> Int { let s = pos; while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }; return pos - s }
        let intStart = pos
        let n = digits()
        guard n > 0 else { throw error("a number needs digits") }
        if n > 1 && bytes[intStart] == 0x30 { throw error("a number has a leading zero", at: intStart) }
        var integral = true
        if pos < bytes.count && bytes[pos] == 0x2E {
            pos += 1
            guard digits() > 0 else { throw error("a number needs digits after the point") }
            integral = false
        }
        if pos < bytes.count && (bytes[pos] == 0x65 || bytes[pos] == 0x45) {
            pos += 1
            if pos < bytes.count && (bytes[pos] == 0x2B || bytes[pos] == 0x2D) { pos += 1 }
            guard digits() > 0 else { throw error("a number needs digits in its exponent") }
            integral = false
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if integral { return Int64(text).map(JSONNode.int) ?? .bigNumber(text) }
        guard let d = Double(text), d.isFinite else { return .bigNumber(text) }
        // A double that does not read back as the same decimal digits would change the value.
        return .double(d)
    }

    mutating func string() throws -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        let start = pos
        while true {
            guard pos < bytes.count else { throw error("a string is not closed", at: start - 1) }
            let b = bytes[pos]
            if b == 0x22 { pos += 1; break }
            if b < 0x20 { throw error("a control character inside a string") }
            if b != 0x5C { out.append(b); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw error("a string ends in an escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), bytes.count - pos >= 6, bytes[pos] == 0x5C, bytes[pos + 1] == 0x75 {
                    pos += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        out += Array("\u{FFFD}".utf8)
                        scalar = low
                    }
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out += Array(String(Character(u)).utf8)
            default: throw error("an unknown escape \\\(String(decoding: [e], as: UTF8.self))")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8", at: start) }
        return s
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - pos >= 4 else { throw error("a \\u escape is cut short") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw error("a \\u escape needs four hex digits")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }
}
