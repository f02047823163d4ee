/// Thrift's compact protocol, the encoding of Parquet's footer and page headers
/// (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).
///
/// Reading is generic: a struct becomes a dictionary of field id → value, so fields this version
/// does not know are skipped without a schema. Every length is checked against the bytes left, so a
/// corrupt footer fails with a `ConversionError` rather than a huge allocation or a trap.
enum Thrift {
    enum Value {
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case binary(ArraySlice<UInt8>)
        case list([Value])
        case map([(Value, Value)])
        case structure(Struct)
    }

    struct Struct {
        var fields: [Int16: Value] = [:]

        func int(_ id: Int16) -> Int64? { if case .int(let v)? = fields[id] { return v } else { return nil } }
        func bool(_ id: Int16) -> Bool? { if case .bool(let v)? = fields[id] { return v } else { return nil } }
        func binary(_ id: Int16) -> ArraySlice<UInt8>? { if case .binary(let v)? = fields[id] { return v } else { return nil } }
        func string(_ id: Int16) -> String? { binary(id).map { String(decoding: $0, as: UTF8.self) } }
        func structure(_ id: Int16) -> Struct? { if case .structure(let v)? = fields[id] { return v } else { return nil } }
        func list(_ id: Int16) -> [Value] { if case .list(let v)? = fields[id] { return v } else { return [] } }
        func structs(_ id: Int16) -> [Struct] { list(id).compactMap { if case .structure(let s) = $0 { return s } else { return nil } } }
        /// The first field that is set, for Thrift unions (LogicalType, TimeUnit).
        var unionMember: (Int16, Struct)? {
            fields.lazy.compactMap { k, v -> (Int16, Struct)? in if case .structure(let s) = v { return (k, s) } else { return nil } }.first
        }
    }

    /// Reads compact-protocol structs from a byte buffer.
    struct Reader {
        /// The bytes and position; its integer decoding is the one pages use too.
        var cursor: ByteCursor
        var bytes: [UInt8] { cursor.bytes }
        var pos: Int {
            get { cursor.pos }
            set { cursor.pos = newValue }
        }
        var end: Int { cursor.end }

        init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
            cursor = ByteCursor(bytes, from: from, to: to)
        }

        static func corrupt(_ what: String) -> ConversionError {
            ConversionError(.malformedInput, "The Parquet file is corrupt: \(what).")
        }

        mutating func byte() throws -> UInt8 { try cursor.byte() }
        mutating func varint() throws -> UInt64 { try cursor.varint() }
        mutating func zigzag() throws -> Int64 { try cursor.zigzag() }

        mutating func readStruct(depth: Int = 0) throws -> Struct {
            guard depth < 64 else { throw Reader.corrupt("metadata nests too deeply") }
            var s = Struct()
            var last: Int16 = 0
            while true {
                let header = try byte()
                if header == 0 { return s }
                let type = header & 0x0F
                let delta = Int16(header >> 4)
                let id: Int16
                if delta == 0 {
                    let z = try zigzag()
                    guard let i = Int16(exactly: z) else { throw Reader.corrupt("a field id is out of range") }
                    id = i
                } else {
                    id = last &+ delta
                }
                last = id
                if type == 1 || type == 2 {
                    s.fields[id] = .bool(type == 1)
                } else {
                    s.fields[id] = try value(type: type, depth: depth)
                }
            }
        }

        mutating func value(type: UInt8, depth: Int) throws -> Value {
            switch type {
            case 1, 2: return .bool(try byte() == 1)
            case 3: return .int(Int64(Int8(bitPattern: try byte())))
            case 4, 5, 6: return .int(try zigzag())
            case 7:
                guard end - pos >= 8 else { throw Reader.corrupt("a double ends early") }
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(bytes[pos + k]) << (8 * UInt64(k)) }
                pos += 8
                return .double(Double(bitPattern: bits))
            case 8:
                let n = try varint()
                guard n <= UInt64(end - pos) else { throw Reader.corrupt("a string runs past the end") }
                defer { pos += Int(n) }
                return .binary(bytes[pos..<pos + Int(n)])
            case 9, 10:
                let h = try byte()
                var n = UInt64(h >> 4)
                if n == 15 { n = try varint() }
                guard n <= UInt64(end - pos) else { throw Reader.corrupt("a list is longer than the file") }
                let elem = h & 0x0F
                var items: [Value] = []
                items.reserveCapacity(Int(n))
                for _ in 0..<n { items.append(try value(type: elem, depth: depth + 1)) }
                return .list(items)
            case 11:
                let n = try varint()
                guard n <= UInt64(end - pos) else { throw Reader.corrupt("a map is longer than the file") }
                if n == 0 { return .map([]) }
                let kv = try byte()
                var items: [(Value, Value)] = []
                for _ in 0..<n {
                    items.append((try value(type: kv >> 4, depth: depth + 1), try value(type: kv & 0x0F, depth: depth + 1)))
                }
                return .map(items)
            case 12: return .structure(try readStruct(depth: depth + 1))
            default: throw Reader.corrupt("unknown metadata type \(type)")
            }
        }
    }

    /// Writes compact-protocol structs. Callers write fields in increasing id order.
    struct Writer {
        var out: [UInt8] = []
        private var lastIDs: [Int16] = [0]

        enum FieldType: UInt8 { case i32 = 5, i64 = 6, binary = 8, list = 9, structure = 12 }

        mutating func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }

        mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

        private mutating func header(_ id: Int16, _ type: UInt8) {
            let delta = id - lastIDs[lastIDs.count - 1]
            if delta > 0 && delta <= 15 {
                out.append(UInt8(delta) << 4 | type)
            } else {
                out.append(type)
                zigzag(Int64(id))
            }
            lastIDs[lastIDs.count - 1] = id
        }

        mutating func int(_ id: Int16, _ v: Int64, _ type: FieldType = .i64) { header(id, type.rawValue); zigzag(v) }
        mutating func i32(_ id: Int16, _ v: Int) { int(id, Int64(v), .i32) }
        mutating func bool(_ id: Int16, _ v: Bool) { header(id, v ? 1 : 2) }
        mutating func binary(_ id: Int16, _ v: [UInt8]) { header(id, 8); varint(UInt64(v.count)); out += v }
        mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

        /// A nested struct field: `body` writes its fields.
        mutating func structure(_ id: Int16, _ body: (inout Writer) -> Void) {
            header(id, 12)
            lastIDs.append(0)
            body(&self)
            out.append(0)
            lastIDs.removeLast()
        }

        /// A list of structs.
        mutating func structList<T>(_ id: Int16, _ items: [T], _ body: (inout Writer, T) -> Void) {
            listHeader(id, items.count, 12)
            for item in items {
                lastIDs.append(0)
                body(&self, item)
                out.append(0)
                lastIDs.removeLast()
            }
        }

        mutating func i32List(_ id: Int16, _ items: [Int]) {
            listHeader(id, items.count, 5)
            for v in items { zigzag(Int64(v)) }
        }

        mutating func stringList(_ id: Int16, _ items: [String]) {
            listHeader(id, items.count, 8)
            for v in items { varint(UInt64(v.utf8.count)); out += Array(v.utf8) }
        }

        private mutating func listHeader(_ id: Int16, _ count: Int, _ elem: UInt8) {
            header(id, 9)
            if count < 15 { out.append(UInt8(count) << 4 | elem) } else { out.append(0xF0 | elem); varint(UInt64(count)) }
        }

        /// Ends the top-level struct.
        mutating func finish() -> [UInt8] { out.append(0); return out }
    }
}
