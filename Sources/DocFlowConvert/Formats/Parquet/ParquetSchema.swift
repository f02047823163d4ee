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

/// One leaf (primitive) column of a Parquet file: a column chunk in every row group.
struct ParquetLeaf {
    var name: String
    var physical: ParquetType
    var typeLength: Int
    /// The definition level of a present value, and the repetition level of the innermost list.
    var maxDefinition: Int
    var maxRepetition: Int = 0
    var meaning: ParquetMeaning
    /// For BYTE_ARRAY without annotation: whether the values are text (legacy writers' strings,
    /// settled from the first row group) or binary. nil while not settled.
    var textual: Bool? = nil

    /// The hub type of the leaf's values.
    var columnType: ColumnType {
        meaning == .binary && textual == false ? .binary : meaning.columnType(physical)
    }
}

/// A node of a Parquet schema: a primitive (one leaf) or a group, with what it means in JSON.
struct ParquetNode {
    enum Shape: Equatable {
        /// A primitive field: leaf `index`.
        case leaf(Int)
        /// A group: an object of its children (a struct).
        case group
        /// An annotated LIST group (or a legacy two-level list): an array.
        case list
        /// An annotated MAP group: an object of its key/value pairs.
        case map
    }

    var name: String
    var repeated: Bool
    var optional: Bool
    var shape: Shape
    var children: [ParquetNode]
    /// The definition level at which this node is present (counting itself when optional or repeated).
    var definition: Int
    var repetition: Int

    /// Whether the table column for this top-level field is flat (one non-repeated primitive).
    var isFlat: Bool {
        if case .leaf = shape, !repeated { return true }
        return false
    }

    /// The leaves under this node, in schema order (set once the node is read).
    var leaves: [Int] = []
}

extension ParquetLeaf {
    /// Nesting deeper than this is refused (a forged schema could recurse without end).
    static let maxDepth = 64

    /// The top-level fields of a file's schema (the depth-first list of SchemaElements) and its
    /// leaves in column-chunk order. Flat fields become typed columns; nested ones (lists, maps,
    /// structs) one JSON column each.
    static func schema(of elements: [Thrift.Struct]) throws -> (fields: [ParquetNode], leaves: [ParquetLeaf]) {
        guard let root = elements.first else { throw ParquetEncoding.corrupt("the schema is empty") }
        let children = Int(root.int(PQ.SchemaElement.numChildren) ?? 0)
        guard children > 0 else { throw ConversionError(.malformedInput, "The Parquet file has no columns.") }
        var leaves: [ParquetLeaf] = []
        var i = 1
        var fields: [ParquetNode] = []
        for _ in 0..<children {
            fields.append(try node(elements, &i, &leaves, definition: 0, repetition: 0, path: [], depth: 1))
        }
        return (fields, leaves)
    }

    private static func node(_ schema: [Thrift.Struct], _ i: inout Int, _ leaves: inout [ParquetLeaf],
                             definition: Int, repetition: Int, path: [String], depth: Int) throws -> ParquetNode {
        guard i < schema.count else { throw ParquetEncoding.corrupt("the schema is shorter than it says") }
        guard depth <= maxDepth else { throw ParquetEncoding.corrupt("the schema nests deeper than \(maxDepth) levels") }
        let e = schema[i]
        i += 1
        let name = e.string(PQ.SchemaElement.name) ?? "column_\(leaves.count + 1)"
        let rep = e.int(PQ.SchemaElement.repetitionType) ?? PQ.Repetition.required
        let def = definition + (rep == PQ.Repetition.required ? 0 : 1)
        let level = repetition + (rep == PQ.Repetition.repeated ? 1 : 0)
        let count = Int(e.int(PQ.SchemaElement.numChildren) ?? 0)
        let dotted = (path + [name]).joined(separator: ".")
        var n = ParquetNode(name: name, repeated: rep == PQ.Repetition.repeated, optional: rep == PQ.Repetition.optional,
                            shape: .group, children: [], definition: def, repetition: level)
        if count == 0 && e.int(PQ.SchemaElement.type) != nil {
            guard let t = e.int(PQ.SchemaElement.type).flatMap({ ParquetType(rawValue: Int($0)) }) else {
                throw ParquetEncoding.corrupt("column “\(dotted)” has no physical type")
            }
            let m = meaning(of: e, physical: t)
            guard m.fits(t) else {
                throw ParquetEncoding.corrupt("column “\(dotted)” is annotated with a logical type its physical type \(t) cannot hold")
            }
            leaves.append(ParquetLeaf(name: dotted, physical: t, typeLength: Int(e.int(PQ.SchemaElement.typeLength) ?? 0),
                                      maxDefinition: def, maxRepetition: level, meaning: m))
            n.shape = .leaf(leaves.count - 1)
            n.leaves = [leaves.count - 1]
            return n
        }
        guard count > 0, count <= schema.count - i else { throw ParquetEncoding.corrupt("group “\(dotted)” has no valid children") }
        for _ in 0..<count {
            n.children.append(try node(schema, &i, &leaves, definition: def, repetition: level, path: path + [name], depth: depth + 1))
        }
        n.leaves = n.children.flatMap(\.leaves)
        let logical = e.structure(PQ.SchemaElement.logicalType)?.unionMember?.0
        let converted = e.int(PQ.SchemaElement.convertedType)
        if logical == PQ.LogicalType.list || converted == PQ.ConvertedType.list {
            n.shape = .list
        } else if logical == PQ.LogicalType.map || converted == PQ.ConvertedType.map || converted == PQ.ConvertedType.mapKeyValue {
            n.shape = .map
        }
        return n
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
