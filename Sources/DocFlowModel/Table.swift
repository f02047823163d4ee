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

/// The table hub: typed columns and rows, delivered in batches so large files stream.
public struct Table: Equatable, Sendable {
    /// The schema.
    public var columns: [Column]
    /// Rows of values, each as long as `columns`.
    public var rows: [[Value]]
    /// Properties such as the source sheet name.
    public var metadata: Metadata

    public init(columns: [Column], rows: [[Value]], metadata: Metadata = Metadata()) {
        self.columns = columns
        self.rows = rows
        self.metadata = metadata
    }
}
