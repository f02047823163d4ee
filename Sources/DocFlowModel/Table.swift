/// The type of a table column, inferred by readers from the data.
public enum ColumnType: String, Equatable, Sendable, CaseIterable {
    /// 64-bit signed integers.
    case int64
    /// IEEE 754 doubles.
    case double
    /// true / false.
    case boolean
    /// Calendar date (ISO 8601 text `YYYY-MM-DD`).
    case date
    /// Date and time (ISO 8601 text).
    case timestamp
    /// Text; the type every value fits.
    case string
    /// Bytes that are not text (Parquet BYTE_ARRAY without a string annotation). Text outputs
    /// write them as standard base64, the one documented encoding; Parquet keeps the bytes.
    case binary
    /// Nested values (lists, maps, structs) as one JSON text per cell: JSON outputs embed it,
    /// CSV and XLSX write the text.
    case json

    /// Whether values live in `bytes`/`offsets` (text, binary and JSON columns).
    @inlinable public var holdsBytes: Bool { self == .string || self == .binary || self == .json }
}

/// One cell value. Numbers keep their source text when they are written back as text.
public enum Value: Equatable, Sendable {
    /// A missing value.
    case null
    /// An integer.
    case int(Int64)
    /// A floating point number.
    case double(Double)
    /// A boolean.
    case bool(Bool)
    /// A date or timestamp in ISO 8601 text.
    case temporal(String)
    /// Text.
    case string(String)
    /// Bytes that are not text.
    case bytes([UInt8])
}

/// A column: its name and type.
public struct Column: Equatable, Sendable {
    /// Column name (from the header row, or `column_N`).
    public var name: String
    /// Inferred or declared type.
    public var type: ColumnType

    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }
}

/// One column's values, stored by type: a million rows of eight columns are eight arrays, not a
/// million small ones. Only the array of the column's type is used; a null holds a zero or empty
/// slot and is marked in `valid`.
public struct ColumnValues: Equatable, Sendable {
    public let type: ColumnType
    /// int64 values, or timestamps in units of `perSecond` since the epoch.
    public var ints: [Int64] = []
    public var doubles: [Double] = []
    public var bools: [Bool] = []
    /// Dates as days since 1970-01-01.
    public var days: [Int32] = []
    /// Strings: UTF-8 bytes end to end, value i in `bytes[offsets[i]..<offsets[i + 1]]`.
    public var bytes: [UInt8] = []
    public var offsets: [Int] = [0]
    /// Per row, whether the value is present; nil while every value is.
    public var valid: [Bool]? = nil
    /// Timestamp units per second (1e3, 1e6 or 1e9) and whether they are UTC instants.
    public var perSecond: Int64 = 1_000_000
    public var utc = false
    /// Rows held (appends keep it; do not set it otherwise).
    public var count = 0

    public init(type: ColumnType, capacity: Int = 0) {
        self.type = type
        switch type {
        case .int64, .timestamp: ints.reserveCapacity(capacity)
        case .double: doubles.reserveCapacity(capacity)
        case .boolean: bools.reserveCapacity(capacity)
        case .date: days.reserveCapacity(capacity)
        case .string, .binary, .json: offsets.reserveCapacity(capacity + 1)
        }
    }

    @inlinable public func isNull(_ i: Int) -> Bool { valid.map { !$0[i] } ?? false }

    public var nullCount: Int { valid.map { $0.lazy.filter { !$0 }.count } ?? 0 }

    @inlinable @inline(__always) mutating func present() {
        if valid != nil { valid!.append(true) }
        count += 1
    }

    @inlinable public mutating func appendNull() {
        if valid == nil { valid = [Bool](repeating: true, count: count) }
        valid!.append(false)
        count += 1
        switch type {
        case .int64, .timestamp: ints.append(0)
        case .double: doubles.append(0)
        case .boolean: bools.append(false)
        case .date: days.append(0)
        case .string, .binary, .json: offsets.append(bytes.count)
        }
    }

    @inlinable @inline(__always) public mutating func append(int v: Int64) { ints.append(v); present() }
    @inlinable @inline(__always) public mutating func append(double v: Double) { doubles.append(v); present() }
    @inlinable @inline(__always) public mutating func append(bool v: Bool) { bools.append(v); present() }
    @inlinable @inline(__always) public mutating func append(days v: Int32) { days.append(v); present() }
    @inlinable @inline(__always) public mutating func append<C: Collection>(utf8 v: C) where C.Element == UInt8 {
        bytes.append(contentsOf: v)
        offsets.append(bytes.count)
        present()
    }

    @inlinable public mutating func append(string v: String) {
        var v = v
        v.withUTF8 { bytes.append(contentsOf: $0) }
        offsets.append(bytes.count)
        present()
    }

    /// Appends a value of the column's type; false (and nothing appended) when it does not fit.
    @discardableResult
    public mutating func append(_ v: Value) -> Bool {
        switch (type, v) {
        case (_, .null): appendNull()
        case (.int64, .int(let i)): append(int: i)
        case (.double, .double(let d)): append(double: d)
        case (.double, .int(let i)): append(double: Double(i))
        case (.boolean, .bool(let b)): append(bool: b)
        case (.date, .temporal(let s)):
            guard let d = TemporalText.days(s), let d32 = Int32(exactly: d) else { return false }
            append(days: d32)
        case (.timestamp, .temporal(let s)):
            guard let (us, zoned) = TemporalText.micros(s), perSecond == 1_000_000 else { return false }
            if zoned { utc = true }
            append(int: us)
        case (.string, .string(let s)), (.string, .temporal(let s)), (.json, .string(let s)): append(string: s)
        case (.string, _): append(string: v.text)
        case (.binary, .bytes(let b)): append(utf8: b)
        default: return false
        }
        return true
    }

    /// Appends value `i` of a column of the same type.
    @inlinable @inline(__always)
    public mutating func append(from o: ColumnValues, at i: Int) {
        if o.isNull(i) { appendNull(); return }
        switch type {
        case .int64, .timestamp: append(int: o.ints[i])
        case .double: append(double: o.doubles[i])
        case .boolean: append(bool: o.bools[i])
        case .date: append(days: o.days[i])
        case .string, .binary, .json: append(utf8: o.utf8(at: i))
        }
    }

    /// Appends every value of a column of the same type (a part read on another core): a
    /// timestamp column is UTC when any part saw a zone.
    public mutating func append(contentsOf o: ColumnValues) {
        if o.utc { utc = true }
        if o.valid != nil || valid != nil {
            if valid == nil { valid = [Bool](repeating: true, count: count) }
            if let ov = o.valid { valid! += ov } else { valid! += repeatElement(true, count: o.count) }
        }
        switch type {
        case .int64, .timestamp: ints += o.ints
        case .double: doubles += o.doubles
        case .boolean: bools += o.bools
        case .date: days += o.days
        case .string, .binary, .json:
            let base = bytes.count
            bytes += o.bytes
            offsets += o.offsets.dropFirst().lazy.map { $0 + base }
        }
        count += o.count
    }

    /// The string at `i` as bytes.
    @inlinable public func utf8(at i: Int) -> ArraySlice<UInt8> { bytes[offsets[i]..<offsets[i + 1]] }

    public func value(at i: Int) -> Value {
        if isNull(i) { return .null }
        switch type {
        case .int64: return .int(ints[i])
        case .double: return .double(doubles[i])
        case .boolean: return .bool(bools[i])
        case .date: return .temporal(CivilTime.dateText(days: Int64(days[i])))
        case .timestamp: return .temporal(CivilTime.timestampText(ints[i], perSecond: perSecond, utc: utc))
        case .string, .json: return .string(String(decoding: utf8(at: i), as: UTF8.self))
        case .binary: return .bytes(Array(utf8(at: i)))
        }
    }
}

extension Value {
    /// The value as text, the way CSV holds it.
    public var text: String {
        switch self {
        case .null: return ""
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? "\(d)" : d.isNaN ? "NaN" : d < 0 ? "-inf" : "inf"
        case .bool(let b): return b ? "true" : "false"
        case .temporal(let s), .string(let s): return s
        case .bytes(let b): return Base64.encode(b)
        }
    }
}

/// The table hub: typed columns stored column by column.
public struct Table: Equatable, Sendable {
    /// The schema.
    public var columns: [Column]
    /// The values, one `ColumnValues` per column, each `rowCount` long.
    public var data: [ColumnValues]
    /// Properties such as the source sheet name.
    public var metadata: Metadata

    public var rowCount: Int { data.first?.count ?? 0 }

    public init(columns: [Column], data: [ColumnValues], metadata: Metadata = Metadata()) {
        self.columns = columns
        self.data = data
        self.metadata = metadata
    }

    /// A table from rows of values. A column holding a value its type cannot store (a reader's
    /// mixed column) becomes a string column, so nothing is lost.
    public init(columns: [Column], rows: [[Value]], metadata: Metadata = Metadata()) {
        var cols = columns
        var data: [ColumnValues] = []
        for c in columns.indices {
            var values = ColumnValues(type: columns[c].type, capacity: rows.count)
            var fits = true
            for row in rows where !values.append(row[c]) { fits = false; break }
            if !fits {
                cols[c].type = .string
                values = ColumnValues(type: .string, capacity: rows.count)
                for row in rows { values.append(row[c]) }
            }
            data.append(values)
        }
        self.columns = cols
        self.data = data
        self.metadata = metadata
    }

    /// Row `r` as values (for documents and tests; writers read the columns).
    public func row(_ r: Int) -> [Value] { data.map { $0.value(at: r) } }

    /// Every row as values: fine for small tables, costly for large ones.
    public var rows: [[Value]] { (0..<rowCount).map(row) }
}

/// Cell access for writers that walk every cell, generic over a column's arrays (`ColumnValues`)
/// and buffer-pointer views of them (`ColumnView`).
public protocol ColumnCells {
    var type: ColumnType { get }
    var perSecond: Int64 { get }
    var utc: Bool { get }
    func isNull(_ i: Int) -> Bool
    func int(at i: Int) -> Int64
    func double(at i: Int) -> Double
    func bool(at i: Int) -> Bool
    func day(at i: Int) -> Int32
    func withUTF8<R>(at i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R
}

extension ColumnValues: ColumnCells {
    @inlinable @inline(__always) public func int(at i: Int) -> Int64 { ints[i] }
    @inlinable @inline(__always) public func double(at i: Int) -> Double { doubles[i] }
    @inlinable @inline(__always) public func bool(at i: Int) -> Bool { bools[i] }
    @inlinable @inline(__always) public func day(at i: Int) -> Int32 { days[i] }
    @inlinable @inline(__always) public func withUTF8<R>(at i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[offsets[i]..<offsets[i + 1]])) }
    }
}

/// A column's storage seen through buffer pointers, for writers that walk every cell: no array
/// is retained per cell (with rows formatted on several cores, per-cell retains of the same
/// arrays made the cores fight over their reference counts — 19 % of Parquet → CSV in perf).
public struct ColumnView: ColumnCells {
    public let type: ColumnType
    public let ints: UnsafeBufferPointer<Int64>
    public let doubles: UnsafeBufferPointer<Double>
    public let bools: UnsafeBufferPointer<Bool>
    public let days: UnsafeBufferPointer<Int32>
    public let bytes: UnsafeBufferPointer<UInt8>
    public let offsets: UnsafeBufferPointer<Int>
    /// nil while every value is present.
    public let valid: UnsafeBufferPointer<Bool>?
    public let perSecond: Int64
    public let utc: Bool

    @inlinable @inline(__always) public func isNull(_ i: Int) -> Bool { valid.map { !$0[i] } ?? false }
    @inlinable @inline(__always) public func int(at i: Int) -> Int64 { ints[i] }
    @inlinable @inline(__always) public func double(at i: Int) -> Double { doubles[i] }
    @inlinable @inline(__always) public func bool(at i: Int) -> Bool { bools[i] }
    @inlinable @inline(__always) public func day(at i: Int) -> Int32 { days[i] }
    @inlinable @inline(__always) public func withUTF8<R>(at i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(UnsafeBufferPointer(rebasing: bytes[offsets[i]..<offsets[i + 1]]))
    }
}

extension Table {
    /// Views nest one closure per array per column: past this many columns the stack would
    /// not hold them (a hostile CSV has 100,000), and writers read the arrays instead.
    public static let maxViewColumns = 256

    /// Calls `body` with a view of every column, valid only inside `body`; at most
    /// `maxViewColumns` columns.
    public func withColumnViews<R>(_ body: (UnsafeBufferPointer<ColumnView>) throws -> R) rethrows -> R {
        precondition(data.count <= Table.maxViewColumns, "too many columns for views")
        func nest(_ i: Int, _ views: [ColumnView]) throws -> R {
            if i == data.count { return try views.withUnsafeBufferPointer { try body($0) } }
            let c = data[i]
            return try c.ints.withUnsafeBufferPointer { ints in
                try c.doubles.withUnsafeBufferPointer { doubles in
                    try c.bools.withUnsafeBufferPointer { bools in
                        try c.days.withUnsafeBufferPointer { days in
                            try c.bytes.withUnsafeBufferPointer { bytes in
                                try c.offsets.withUnsafeBufferPointer { offsets in
                                    func view(_ valid: UnsafeBufferPointer<Bool>?) throws -> R {
                                        try nest(i + 1, views + [ColumnView(type: c.type, ints: ints, doubles: doubles, bools: bools, days: days, bytes: bytes,
                                                                            offsets: offsets, valid: valid, perSecond: c.perSecond, utc: c.utc)])
                                    }
                                    if let valid = c.valid { return try valid.withUnsafeBufferPointer { try view($0) } }
                                    return try view(nil)
                                }
                            }
                        }
                    }
                }
            }
        }
        return try nest(0, [])
    }
}
