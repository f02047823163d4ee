/// Every option Doc Flow's readers and writers take, declared once, by what they configure.
/// `ConverterOptions.standard` says which reader or writer takes which; the converters declare
/// the same lists (a test holds `FormatRegistry.standard`'s declarations equal to these) and read
/// their values through these constants.
public enum TableOptions {
    public static let delimiter = OptionSpec("delimiter",
        .character(names: ["tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"], excluded: "\"\n\r"),
        default: "detected (CSV input), comma (CSV output)", help: "The field separator: one character, or tab, comma, semicolon, pipe.")
    public static let header = OptionSpec("header", .boolean, default: "detected (CSV), true (XLSX)",
        help: "Whether the first row holds the column names.")
    public static let inferTypes = OptionSpec("infer_types", .boolean, default: "true",
        help: "false: every value is text (no numbers, dates or booleans inferred).")
    public static let keepEmptyStrings = OptionSpec("keep_empty_strings", .boolean, default: "false",
        help: "true: an unquoted empty field is an empty string, as a quoted \"\" always is (by default it is null).")
    public static let sheet = OptionSpec("sheet", .nameOrPosition, default: "the first (to a document: every sheet)",
        help: "The sheet to read: its name, or its position counting from 1.")
    public static let sheetName = OptionSpec("sheet_name", .text(maxLength: 31, forbidden: "[]:*?/\\", forbiddenAtEnds: "'"),
        default: "data", help: "The name of the output's (first) sheet.")
    public static let rowsPerSheet = OptionSpec("rows_per_sheet", .integer(1...1_048_575), default: "1048575",
        help: "Data rows per sheet before the table continues on another sheet.")
    public static let compression = OptionSpec("compression", .choice(["snappy", "zstd", "gzip", "none"]), default: "snappy",
        help: "The Parquet page compression.")
    public static let rowGroupRows = OptionSpec("row_group_rows", .integer(1_000...10_000_000), default: "131072",
        help: "Rows per Parquet row group.")
}

public enum DocumentOptions {
    public static let notes = OptionSpec("notes", .boolean, default: "false",
        help: "true: each slide's speaker notes follow it as a quotation.")
    public static let fragment = OptionSpec("fragment", .boolean, default: "false",
        help: "true: the body's content only, not a whole HTML page.")
    public static let pageSize = OptionSpec("page_size", .choice(["a4", "letter"]), default: "a4",
        help: "The PDF page size.")
    public static let font = OptionSpec("font", .choice(["sans", "serif", "monospace", "mono"]), default: "sans (monospace for plain text)",
        help: "The PDF body font (plain text keeps its line breaks either way).")
    public static let renderer = OptionSpec("renderer", .choice(["direct", "pango"]), default: "chosen by the text",
        help: "Forces one PDF renderer (tests, comparisons); direct refuses text it cannot place.")
}

/// Which reader and writer takes which options; what the upload check and `GET /api/formats`
/// answer from, without linking the converters.
public struct ConverterOptions: Sendable, Equatable {
    public let readers: [String: [OptionSpec]]
    public let writers: [String: [OptionSpec]]

    public init(readers: [Format: [OptionSpec]], writers: [Format: [OptionSpec]]) {
        self.readers = Dictionary(uniqueKeysWithValues: readers.map { ($0.key.id, $0.value) })
        self.writers = Dictionary(uniqueKeysWithValues: writers.map { ($0.key.id, $0.value) })
    }

    public static let standard = ConverterOptions(
        readers: [.csv: [TableOptions.delimiter, TableOptions.header, TableOptions.inferTypes, TableOptions.keepEmptyStrings],
                  .xlsx: [TableOptions.sheet, TableOptions.header],
                  .pptx: [DocumentOptions.notes]],
        writers: [.csv: [TableOptions.delimiter],
                  .xlsx: [TableOptions.sheetName, TableOptions.rowsPerSheet],
                  .parquet: [TableOptions.compression, TableOptions.rowGroupRows],
                  .html: [DocumentOptions.fragment],
                  .pdf: [DocumentOptions.pageSize, DocumentOptions.font, DocumentOptions.renderer]])

    /// The options of a conversion: its reader's, then its writer's.
    public func forPair(from: Format, to: Format) -> [OptionSpec] {
        (readers[from.id] ?? []) + (writers[to.id] ?? [])
    }

    /// The options object of a job (its JSON text) checked for `from → to`. `allowDebug` lets the
    /// test hooks' `debug_*` keys through unchecked (they never reach a converter).
    public func check(json text: String, from: Format, to: Format, allowDebug: Bool = false) throws(OptionError) -> Options {
        guard let raw = JSONValue.object(fromJSON: text) else {
            throw OptionError(key: nil, "options must be a JSON object.")
        }
        return try Options(checking: raw, against: forPair(from: from, to: to),
                           ignoring: { allowDebug && $0.hasPrefix("debug_") })
    }
}
