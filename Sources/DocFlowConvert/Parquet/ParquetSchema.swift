import DocFlowModel

/// Parquet's physical types.
enum ParquetType: Int {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// What a leaf column's values mean, from its logical or converted type.
enum ParquetMeaning: Equatable {
    case boolean, integer, unsigned, floating, string, binary, date, uuid, float16, json
    /// Timestamps: units per second (1e3, 1e6, 1e9) and whether they are UTC instants.
    case timestamp(perSecond: Int64, utc: Bool)
    case timeOfDay(perSecond: Int64)
    case decimal(scale: Int)
    case int96

    var columnType: ColumnType {
        switch self {
        case .boolean: return .boolean
        case .integer: return .int64
        case .floating, .float16: return .double
        case .date: return .date
        case .timestamp, .int96: return .timestamp
        default: return .string
        }
    }
}

/// One flat column of a Parquet file.
struct ParquetLeaf {
    var name: String
    var physical: ParquetType
    var typeLength: Int
    var maxDefinition: Int
    var meaning: ParquetMeaning
}

extension ParquetLeaf {
    /// The leaves of a file's schema (the depth-first list of SchemaElements). Nested columns
    /// (groups, repeated fields) are refused by name: flat outputs have no faithful place for them.
    static func leaves(of schema: [Thrift.Struct]) throws -> [ParquetLeaf] {
        guard let root = schema.first else { throw ParquetEncoding.corrupt("the schema is empty") }
        let children = Int(root.int(5) ?? 0)
        guard children > 0 else { throw ConversionError(.malformedInput, "The Parquet file has no columns.") }
        var leaves: [ParquetLeaf] = []
        var i = 1
        for _ in 0..<children {
            guard i < schema.count else { throw ParquetEncoding.corrupt("the schema is shorter than it says") }
            let e = schema[i]
            let name = e.string(4) ?? "column_\(leaves.count + 1)"
            let repetition = e.int(3) ?? 0
            if (e.int(5) ?? 0) > 0 || repetition == 2 {
                throw ConversionError(.unsupportedConversion,
                    "The Parquet column “\(name)” is nested (a list, map or struct); Doc Flow converts flat columns only.")
            }
            guard let t = e.int(1).flatMap({ ParquetType(rawValue: Int($0)) }) else {
                throw ParquetEncoding.corrupt("column “\(name)” has no physical type")
            }
            leaves.append(ParquetLeaf(name: name, physical: t, typeLength: Int(e.int(2) ?? 0),
                                      maxDefinition: repetition == 1 ? 1 : 0, meaning: meaning(of: e, physical: t)))
            i += 1
        }
        return leaves
    }

    private static func meaning(of e: Thrift.Struct, physical: ParquetType) -> ParquetMeaning {
        let scale = Int(e.int(7) ?? 0)
        if let logical = e.structure(10), let (kind, body) = logical.unionMember {
            switch kind {
            case 1, 4: return .string
            case 12: return .json
            case 5: return .decimal(scale: Int(body.int(1) ?? Int64(scale)))
            case 6: return .date
            case 7: return .timeOfDay(perSecond: unitsPerSecond(body.structure(2)))
            case 8: return .timestamp(perSecond: unitsPerSecond(body.structure(2)), utc: body.bool(1) ?? false)
            case 10: return (body.bool(2) ?? true) ? .integer : .unsigned
            case 14: return .uuid
            case 15: return .float16
            default: break
            }
        }
        switch e.int(6) {
        case 0?, 4?: return .string
        case 19?: return .json
        case 5?: return .decimal(scale: scale)
        case 6?: return .date
        case 7?: return .timeOfDay(perSecond: 1_000)
        case 8?: return .timeOfDay(perSecond: 1_000_000)
        case 9?: return .timestamp(perSecond: 1_000, utc: true)
        case 10?: return .timestamp(perSecond: 1_000_000, utc: true)
        case 11?, 12?, 13?, 14?: return .unsigned
        default: break
        }
        switch physical {
        case .boolean: return .boolean
        case .int32, .int64: return .integer
        case .int96: return .int96
        case .float, .double: return .floating
        case .byteArray, .fixedLenByteArray: return .binary
        }
    }

    private static func unitsPerSecond(_ unit: Thrift.Struct?) -> Int64 {
        switch unit?.unionMember?.0 {
        case 1?: return 1_000
        case 3?: return 1_000_000_000
        default: return 1_000_000
        }
    }
}

/// Dates and instants as ISO 8601 text, the way the Table hub carries them.
enum CivilTime {
    /// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// (year, month, day) → days since 1970-01-01.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func dateText(days: Int64) -> String {
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))"
    }

    /// An instant in units of `perSecond` since the epoch: `YYYY-MM-DDTHH:MM:SS[.fff…][Z]`.
    static func timestampText(_ value: Int64, perSecond: Int64, utc: Bool) -> String {
        var secs = value / perSecond
        var frac = value % perSecond
        if frac < 0 { frac += perSecond; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        var s = dateText(days: days) + "T" + timeText(seconds: sod, fraction: frac, perSecond: perSecond)
        if utc { s += "Z" }
        return s
    }

    static func timeText(seconds sod: Int64, fraction: Int64, perSecond: Int64) -> String {
        var s = "\(pad(sod / 3600, 2)):\(pad(sod / 60 % 60, 2)):\(pad(sod % 60, 2))"
        if fraction != 0 {
            let digits = perSecond == 1_000 ? 3 : perSecond == 1_000_000 ? 6 : 9
            var f = pad(fraction, digits)
            // Keep groups of three digits: .5 → .500, .123400 → .1234 → .123400 stays micro.
            while f.count > 3 && f.hasSuffix("000") { f.removeLast(3) }
            s += "." + f
        }
        return s
    }
}
