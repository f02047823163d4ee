/// The Thrift field ids and enum values of Parquet's metadata (`parquet.thrift` in
/// apache/parquet-format), named once: the reader and the writer use these, never bare numbers.
/// Each nested enum is the thrift struct (or enum) of the same name.
enum PQ {
    enum FileMetaData {
        static let version: Int16 = 1, schema: Int16 = 2, numRows: Int16 = 3, rowGroups: Int16 = 4
        static let keyValueMetadata: Int16 = 5, createdBy: Int16 = 6, columnOrders: Int16 = 7
        static let encryptionAlgorithm: Int16 = 8, footerSigningKeyMetadata: Int16 = 9
    }

    enum SchemaElement {
        static let type: Int16 = 1, typeLength: Int16 = 2, repetitionType: Int16 = 3, name: Int16 = 4
        static let numChildren: Int16 = 5, convertedType: Int16 = 6, scale: Int16 = 7, precision: Int16 = 8
        static let fieldID: Int16 = 9, logicalType: Int16 = 10
    }

    /// `FieldRepetitionType`.
    enum Repetition {
        static let required: Int64 = 0, optional: Int64 = 1, repeated: Int64 = 2
    }

    enum RowGroup {
        static let columns: Int16 = 1, totalByteSize: Int16 = 2, numRows: Int16 = 3
    }

    enum ColumnChunk {
        static let filePath: Int16 = 1, fileOffset: Int16 = 2, metaData: Int16 = 3
        static let cryptoMetadata: Int16 = 8, encryptedColumnMetadata: Int16 = 9
    }

    enum ColumnMetaData {
        static let type: Int16 = 1, encodings: Int16 = 2, pathInSchema: Int16 = 3, codec: Int16 = 4
        static let numValues: Int16 = 5, totalUncompressedSize: Int16 = 6, totalCompressedSize: Int16 = 7
        static let keyValueMetadata: Int16 = 8, dataPageOffset: Int16 = 9, indexPageOffset: Int16 = 10
        static let dictionaryPageOffset: Int16 = 11, statistics: Int16 = 12
    }

    enum Statistics {
        static let max: Int16 = 1, min: Int16 = 2, nullCount: Int16 = 3, distinctCount: Int16 = 4
        static let maxValue: Int16 = 5, minValue: Int16 = 6
    }

    enum PageHeader {
        static let type: Int16 = 1, uncompressedPageSize: Int16 = 2, compressedPageSize: Int16 = 3, crc: Int16 = 4
        static let dataPageHeader: Int16 = 5, indexPageHeader: Int16 = 6, dictionaryPageHeader: Int16 = 7
        static let dataPageHeaderV2: Int16 = 8
    }

    /// `PageType`.
    enum PageType {
        static let dataPage: Int64 = 0, indexPage: Int64 = 1, dictionaryPage: Int64 = 2, dataPageV2: Int64 = 3
    }

    enum DataPageHeader {
        static let numValues: Int16 = 1, encoding: Int16 = 2, definitionLevelEncoding: Int16 = 3
        static let repetitionLevelEncoding: Int16 = 4, statistics: Int16 = 5
    }

    enum DataPageHeaderV2 {
        static let numValues: Int16 = 1, numNulls: Int16 = 2, numRows: Int16 = 3, encoding: Int16 = 4
        static let definitionLevelsByteLength: Int16 = 5, repetitionLevelsByteLength: Int16 = 6
        static let isCompressed: Int16 = 7, statistics: Int16 = 8
    }

    enum DictionaryPageHeader {
        static let numValues: Int16 = 1, encoding: Int16 = 2, isSorted: Int16 = 3
    }

    /// The members of the `LogicalType` union.
    enum LogicalType {
        static let string: Int16 = 1, map: Int16 = 2, list: Int16 = 3, enumeration: Int16 = 4, decimal: Int16 = 5
        static let date: Int16 = 6, time: Int16 = 7, timestamp: Int16 = 8, integer: Int16 = 10, unknown: Int16 = 11
        static let json: Int16 = 12, bson: Int16 = 13, uuid: Int16 = 14, float16: Int16 = 15
    }

    enum DecimalType { static let scale: Int16 = 1, precision: Int16 = 2 }
    enum TimeType { static let isAdjustedToUTC: Int16 = 1, unit: Int16 = 2 }
    enum TimestampType { static let isAdjustedToUTC: Int16 = 1, unit: Int16 = 2 }
    enum IntType { static let bitWidth: Int16 = 1, isSigned: Int16 = 2 }
    /// The members of the `TimeUnit` union.
    enum TimeUnit { static let millis: Int16 = 1, micros: Int16 = 2, nanos: Int16 = 3 }
    /// The members of the `ColumnOrder` union.
    enum ColumnOrder { static let typeDefinedOrder: Int16 = 1 }

    /// `ConvertedType` (the legacy annotation).
    enum ConvertedType {
        static let utf8: Int64 = 0, map: Int64 = 1, mapKeyValue: Int64 = 2, list: Int64 = 3, enumeration: Int64 = 4
        static let decimal: Int64 = 5, date: Int64 = 6, timeMillis: Int64 = 7, timeMicros: Int64 = 8
        static let timestampMillis: Int64 = 9, timestampMicros: Int64 = 10, uint8: Int64 = 11, uint16: Int64 = 12
        static let uint32: Int64 = 13, uint64: Int64 = 14, json: Int64 = 19
    }
}
