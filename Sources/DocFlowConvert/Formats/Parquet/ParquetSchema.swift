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

    /// Whether values of `physical` type can carry this meaning (the format's rules; a file that
    /// breaks them is refused rather than decoded into the wrong column).
    func fits(_ physical: ParquetType) -> Bool {
        switch self {
        case .boolean: return physical == .boolean
        case .integer, .unsigned: return physical == .int32 || physical == .int64
        case .floating: return physical == .float || physical == .double
        case .date: return physical == .int32
        case .timeOfDay: return physical == .int32 || physical == .int64
        case .timestamp: return physical == .int64
        case .int96: return physical == .int96
        case .decimal: return [.int32, .int64, .byteArray, .fixedLenByteArray].contains(physical)
        case .string, .binary, .json: return physical == .byteArray || physical == .fixedLenByteArray
        case .uuid, .float16: return physical == .fixedLenByteArray
        }
    }

    /// The hub type of a column of this meaning (unsigned 64-bit integers may not fit Int64:
    /// they are text).
    func columnType(_ physical: ParquetType) -> ColumnType {
        switch self {
        case .boolean: return .boolean
        case .integer: return .int64
        case .unsigned: return physical == .int64 ? .string : .int64
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
        let children = Int(root.int(PQ.SchemaElement.numChildren) ?? 0)
        guard children > 0 else { throw ConversionError(.malformedInput, "The Parquet file has no columns.") }
        var leaves: [ParquetLeaf] = []
        var i = 1
        for _ in 0..<children {
            guard i < schema.count else { throw ParquetEncoding.corrupt("the schema is shorter than it says") }
            let e = schema[i]
            let name = e.string(PQ.SchemaElement.name) ?? "column_\(leaves.count + 1)"
            let repetition = e.int(PQ.SchemaElement.repetitionType) ?? PQ.Repetition.required
            if (e.int(PQ.SchemaElement.numChildren) ?? 0) > 0 || repetition == PQ.Repetition.repeated {
                throw ConversionError(.unsupportedConversion,
                    "The Parquet column “\(name)” is nested (a list, map or struct); Doc Flow converts flat columns only.")
            }
            guard let t = e.int(PQ.SchemaElement.type).flatMap({ ParquetType(rawValue: Int($0)) }) else {
                throw ParquetEncoding.corrupt("column “\(name)” has no physical type")
            }
            let m = meaning(of: e, physical: t)
            guard m.fits(t) else {
                throw ParquetEncoding.corrupt("column “\(name)” is annotated with a logical type its physical type \(t) cannot hold")
            }
            leaves.append(ParquetLeaf(name: name, physical: t, typeLength: Int(e.int(PQ.SchemaElement.typeLength) ?? 0),
                                      maxDefinition: repetition == PQ.Repetition.optional ? 1 : 0, meaning: m))
            i += 1
        }
        return leaves
    }

    private static func meaning(of e: Thrift.Struct, physical: ParquetType) -> ParquetMeaning {
        let scale = Int(e.int(PQ.SchemaElement.scale) ?? 0)
        if let logical = e.structure(PQ.SchemaElement.logicalType), let (kind, body) = logical.unionMember {
            switch kind {
            case PQ.LogicalType.string, PQ.LogicalType.enumeration: return .string
            case PQ.LogicalType.json: return .json
            case PQ.LogicalType.decimal: return .decimal(scale: Int(body.int(PQ.DecimalType.scale) ?? Int64(scale)))
            case PQ.LogicalType.date: return .date
            case PQ.LogicalType.time: return .timeOfDay(perSecond: unitsPerSecond(body.structure(PQ.TimeType.unit)))
            case PQ.LogicalType.timestamp:
                return .timestamp(perSecond: unitsPerSecond(body.structure(PQ.TimestampType.unit)),
                                  utc: body.bool(PQ.TimestampType.isAdjustedToUTC) ?? false)
            case PQ.LogicalType.integer: return (body.bool(PQ.IntType.isSigned) ?? true) ? .integer : .unsigned
            case PQ.LogicalType.uuid: return .uuid
            case PQ.LogicalType.float16: return .float16
            default: break
            }
        }
        switch e.int(PQ.SchemaElement.convertedType) {
        case PQ.ConvertedType.utf8?, PQ.ConvertedType.enumeration?: return .string
        case PQ.ConvertedType.json?: return .json
        case PQ.ConvertedType.decimal?: return .decimal(scale: scale)
        case PQ.ConvertedType.date?: return .date
        case PQ.ConvertedType.timeMillis?: return .timeOfDay(perSecond: 1_000)
        case PQ.ConvertedType.timeMicros?: return .timeOfDay(perSecond: 1_000_000)
        case PQ.ConvertedType.timestampMillis?: return .timestamp(perSecond: 1_000, utc: true)
        case PQ.ConvertedType.timestampMicros?: return .timestamp(perSecond: 1_000_000, utc: true)
        case PQ.ConvertedType.uint8?, PQ.ConvertedType.uint16?, PQ.ConvertedType.uint32?, PQ.ConvertedType.uint64?: return .unsigned
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
        case PQ.TimeUnit.millis?: return 1_000
        case PQ.TimeUnit.nanos?: return 1_000_000_000
        default: return 1_000_000
        }
    }
}
