/// Which formats Doc Flow reads and writes, hence which conversions it offers: what the web layer
/// answers from (upload checks, `GET /api/formats`) without linking the converters and their C
/// libraries. `FormatRegistry` builds the same matrix from its readers and writers, and a test
/// holds `FormatRegistry.standard.matrix == ConversionMatrix.standard`.
public struct ConversionMatrix: Sendable, Equatable {
    /// Formats with a reader, in declaration order.
    public let readable: [Format]
    /// Formats with a writer, and the hubs each writer takes.
    public let writable: [Format: Set<Hub>]
    /// Every format with a reader or a writer, sorted by id.
    public let formats: [Format]

    public init(readable: [Format], writable: [(Format, Set<Hub>)]) {
        self.readable = readable
        self.writable = Dictionary(writable, uniquingKeysWith: { a, _ in a })
        var all: [String: Format] = [:]
        for f in readable + writable.map(\.0) { all[f.id] = f }
        formats = all.values.sorted { $0.id < $1.id }
    }

    /// What Doc Flow ships (the readers and writers of `FormatRegistry.standard`).
    public static let standard = ConversionMatrix(
        readable: [.markdown, .csv, .text, .html, .parquet, .json, .jsonLines, .xlsx, .pdf, .docx, .pptx],
        writable: [(.html, [.document, .table]), (.json, [.table]), (.jsonLines, [.table]), (.markdown, [.document, .table]),
                   (.text, [.document, .table]), (.pdf, [.document, .table]), (.parquet, [.table]), (.csv, [.table]),
                   (.xlsx, [.table]), (.extract, [.document, .table])])

    public func isReadable(_ f: Format) -> Bool { readable.contains(f) }
    public func isWritable(_ f: Format) -> Bool { writable[f] != nil }

    /// The format for an identifier or a file extension (`md`, `markdown`, `CSV`).
    public func format(named name: String) -> Format? {
        let key = name.lowercased()
        return formats.first { $0.id == key || $0.extensions.contains(key) }
    }

    /// The format a file name says, looking through a `.gz` suffix (`data.csv.gz` is CSV).
    public func format(forFilename filename: String) -> Format? {
        if filename.lowercased().hasSuffix(".gz"), filename.count > 3 { return format(forFilename: String(filename.dropLast(3))) }
        guard let dot = filename.lastIndex(of: "."), dot != filename.startIndex else { return nil }
        return format(named: String(filename[filename.index(after: dot)...]))
    }

    /// Target formats reachable from `source`, sorted by id.
    public func targets(from source: Format) -> [Format] {
        guard isReadable(source) else { return [] }
        return writable.filter { $0.key.id != source.id && $0.value.contains(source.hub) }.map(\.key).sorted { $0.id < $1.id }
    }

    /// Whether `from → to` is supported.
    public func supports(from: Format, to: Format) -> Bool {
        targets(from: from).contains(to)
    }
}
