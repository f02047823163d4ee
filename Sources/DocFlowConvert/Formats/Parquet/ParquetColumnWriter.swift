import DocFlowModel

/// How a table column is stored in Parquet: its physical type and annotations.
enum ParquetColumnKind: Equatable {
    case int64, double, boolean, date, string
    /// BYTE_ARRAY without annotation: the bytes as they came.
    case binary
    /// Nested values kept as JSON text (BYTE_ARRAY with the JSON logical type).
    case json
    /// Timestamps: units per second (1e3, 1e6, 1e9) and whether they are UTC instants.
    case timestamp(perSecond: Int64, utc: Bool)

    init(_ values: ColumnValues) {
        switch values.type {
        case .int64: self = .int64
        case .double: self = .double
        case .boolean: self = .boolean
        case .date: self = .date
        case .timestamp: self = .timestamp(perSecond: values.perSecond, utc: values.utc)
        case .string: self = .string
        case .binary: self = .binary
        case .json: self = .json
        }
    }

    var physical: ParquetType {
        switch self {
        case .int64, .timestamp: return .int64
        case .double: return .double
        case .boolean: return .boolean
        case .date: return .int32
        case .string, .binary, .json: return .byteArray
        }
    }

    var convertedType: Int? {
        switch self {
        case .string: return Int(PQ.ConvertedType.utf8)
        case .json: return Int(PQ.ConvertedType.json)
        case .date: return Int(PQ.ConvertedType.date)
        case .timestamp(1_000, true): return Int(PQ.ConvertedType.timestampMillis)
        case .timestamp(1_000_000, true): return Int(PQ.ConvertedType.timestampMicros)
        default: return nil
        }
    }

    var writeLogical: ((inout Thrift.Writer) -> Void)? {
        switch self {
        case .string: return { w in w.structure(PQ.LogicalType.string) { _ in } }
        case .json: return { w in w.structure(PQ.LogicalType.json) { _ in } }
        case .date: return { w in w.structure(PQ.LogicalType.date) { _ in } }
        case .timestamp(let per, let utc):
            let unit = per == 1_000 ? PQ.TimeUnit.millis : per == 1_000_000_000 ? PQ.TimeUnit.nanos : PQ.TimeUnit.micros
            return { w in
                w.structure(PQ.LogicalType.timestamp) { w in
                    w.bool(PQ.TimestampType.isAdjustedToUTC, utc)
                    w.structure(PQ.TimestampType.unit) { w in w.structure(unit) { _ in } }
                }
            }
        default: return nil
        }
    }
}

/// Encodes one column chunk of a row group: optional dictionary page, then data pages.
struct ColumnChunkWriter {
    let kind: ParquetColumnKind
    let codec: ParquetCodec
    let name: String
    static let pageRows = 16_384

    /// One row group's slice of a column.
    struct Slice {
        let values: ColumnValues
        let rows: Range<Int>
    }

    func write(_ slice: Slice, to out: inout [UInt8]) -> ChunkMeta {
        let v = slice.values
        var defs = [UInt32](repeating: 1, count: slice.rows.count)
        var present: [Int] = []  // row indices with a value, only when there are nulls
        if let valid = v.valid {
            present.reserveCapacity(slice.rows.count)
            for (k, r) in slice.rows.enumerated() {
                if valid[r] { present.append(r) } else { defs[k] = 0 }
            }
        }
        let rows: [Int]? = v.valid == nil ? nil : present
        return emit(slice, present: rows, defs: defs, to: &out)
    }
}
