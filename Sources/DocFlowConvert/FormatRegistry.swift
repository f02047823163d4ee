@_exported import DocFlowFormats
import DocFlowCore
import DocFlowModel

/// The one explicit list of readers and writers. An unknown format throws. Which conversions exist
/// is its `matrix` (the same one `DocFlowFormats` declares for the processes that do not convert).
public struct FormatRegistry: Sendable {
    public let readers: [String: any Reader]
    public let writers: [String: any Writer]
    /// The formats and conversions these readers and writers make.
    public let matrix: ConversionMatrix
    /// Every format with a reader or a writer, sorted by id.
    public var formats: [Format] { matrix.formats }
    /// The options each reader and writer declares (a test holds them equal to `ConverterOptions.standard`).
    public let options: ConverterOptions

    public init(readers: [any Reader], writers: [any Writer]) {
        self.readers = Dictionary(uniqueKeysWithValues: readers.map { ($0.format.id, $0) })
        self.writers = Dictionary(uniqueKeysWithValues: writers.map { ($0.format.id, $0) })
        matrix = ConversionMatrix(readable: readers.map(\.format), writable: writers.map { ($0.format, $0.accepts) })
        options = ConverterOptions(
            readers: Dictionary(uniqueKeysWithValues: readers.filter { !$0.options.isEmpty }.map { ($0.format, $0.options) }),
            writers: Dictionary(uniqueKeysWithValues: writers.filter { !$0.options.isEmpty }.map { ($0.format, $0.options) }))
    }

    /// Every reader and writer Doc Flow ships.
    public static let standard = FormatRegistry(
        readers: [MarkdownReader(), CSVReader(), PlainTextReader(), HTMLReader(), ParquetReader(),
                  JSONReader(), JSONReader(format: .jsonLines), XLSXReader(), PDFReader(), DOCXReader(), PPTXReader()],
        writers: [HTMLWriter(), JSONWriter(), JSONWriter(format: .jsonLines), MarkdownWriter(), PlainTextWriter(), PDFWriter(),
                  ParquetWriter(), CSVWriter(), XLSXWriter(), ExtractWriter()]
    )


    /// The format for an identifier or a file extension (`md`, `markdown`, `CSV`).
    public func format(named name: String) -> Format? { matrix.format(named: name) }

    /// The format of a file name by its extension.
    public func format(forFilename filename: String) -> Format? { matrix.format(forFilename: filename) }

    /// Target formats reachable from `source`.
    public func targets(from source: Format) -> [Format] { matrix.targets(from: source) }

    /// Whether `from → to` is supported.
    public func supports(from: Format, to: Format) -> Bool { matrix.supports(from: from, to: to) }

    /// Runs one conversion in memory; returns the output and what the reader found out.
    public func convert(_ bytes: [UInt8], from: Format, to: Format, context: ConversionContext) throws -> ConversionResult {
        let sink = MemorySink()
        let summary = try convert(.bytes(bytes), from: from, to: to, sink: sink, context: context)
        return ConversionResult(parts: sink.parts, metadata: summary.metadata, warnings: summary.warnings)
    }

    /// Runs one conversion, writing the output to `sink` as it is made. Between tabular formats
    /// that stream (CSV, JSON, JSON Lines, Parquet in; CSV, JSON, JSON Lines, Parquet, Excel out)
    /// a file input is mapped and walked batch by batch, so memory stays bounded whatever the
    /// file's size; other conversions read the input whole. Throws `ConversionError` for the
    /// input's faults and `SinkError` when the output cannot be stored.
    public func convert(_ input: ConversionInput, from: Format, to: Format, sink: ByteSink,
                        context: ConversionContext) throws -> ConversionSummary {
        do {
            let summary = try convertParts(input, from: from, to: to, sink: sink, context: context)
            try sink.finish()
            return summary
        } catch {
            try? sink.finish()  // the output is settled (written or failed) before anyone closes it
            throw error
        }
    }

    private func convertParts(_ input: ConversionInput, from: Format, to: Format, sink: ByteSink,
                              context: ConversionContext) throws -> ConversionSummary {
        guard let reader = readers[from.id] else {
            throw ConversionError(.unknownFormat, "Doc Flow cannot read \(from.name) files.")
        }
        guard let writer = writers[to.id], writer.accepts.contains(from.hub) else {
            throw ConversionError(.unsupportedConversion, "Doc Flow cannot convert \(from.name) to \(to.name).")
        }
        context.sourceFormat = from
        let input = try InputCheck.prepare(input, from: from, context: context)
        context.progress(5, "reading \(from.name)")
        var meta: Metadata
        if let sr = reader as? any TableStreamReader, to.hub == .table || !(reader is any MultiTableReader) {
            let stream = try sr.stream(try input.mapped(), context: context)
            if let sw = writer as? any TableStreamWriter {
                try sw.write(stream, to: sink, context: context)
            } else {
                let table = try stream.collect()
                context.progress(60, "writing \(to.name)")
                for part in try writer.writeParts(.table(table), context: context) { try sink.write(part) }
            }
            meta = JobMetadata.table(stream.metadata, columns: stream.columns, rows: stream.rowsRead)
        } else {
            let bytes = try input.whole()
            let payload: Payload
            if let multi = reader as? any MultiTableReader, to.hub == .document, context.options.text(TableOptions.sheet) == nil {
                payload = .document(try multi.readDocument(bytes, context: context))  // every sheet, titled
            } else {
                payload = try reader.read(bytes, context: context)
            }
            context.progress(60, "writing \(to.name)")
            if case .table(let t) = payload, let sw = writer as? any TableStreamWriter {
                try sw.write(TableStream(t), to: sink, context: context)
            } else {
                for part in try writer.writeParts(payload, context: context) { try sink.write(part) }
            }
            switch payload {
            case .document(let d): meta = JobMetadata.document(d)
            case .table(let t): meta = JobMetadata.table(t.metadata, columns: t.columns, rows: t.rowCount)
            }
        }
        context.progress(100, "done")
        meta = JobMetadata.merged(meta, context)
        return ConversionSummary(metadata: meta, warnings: context.warnings, byteCount: sink.count)
    }
}

/// A conversion's input: a file (mapped when the reader streams, else read whole) or bytes.
public enum ConversionInput {
    case file(String)
    /// An open file (the sandboxed converter is handed its input this way, never a path).
    case descriptor(Int32)
    case bytes([UInt8])

    func mapped() throws -> InputBytes {
        switch self {
        case .bytes(let b): return InputBytes(b)
        case .file(let path):
            guard let m = InputBytes(path: path) else { throw ConversionError(.internal, "The input file could not be read.") }
            return m
        case .descriptor(let fd):
            guard let m = InputBytes(fd: fd) else { throw ConversionError(.internal, "The input file could not be read.") }
            return m
        }
    }

    func whole() throws -> [UInt8] {
        switch self {
        case .bytes(let b): return b
        case .file(let path):
            guard let b = FileBytes.read(path) else { throw ConversionError(.internal, "The input file could not be read.") }
            return b
        case .descriptor(let fd):
            guard let b = FileBytes.read(fd: fd) else { throw ConversionError(.internal, "The input file could not be read.") }
            return b
        }
    }
}

/// What a conversion written to a sink reports.
public struct ConversionSummary: Sendable {
    public var metadata: Metadata
    public var warnings: [String]
    public var byteCount: Int

    /// Metadata as a JSON object (title, author, then the properties).
    public var metadataJSON: String { metadata.json }

    /// Warnings as a JSON array of strings.
    public var warningsJSON: String { "[" + warnings.map(JSONText.quoted).joined(separator: ", ") + "]" }
}

/// The output of a conversion and what it reports.
public struct ConversionResult: Sendable {
    /// The output in consecutive parts (see `Writer.writeParts`); write them in order.
    public var parts: [[UInt8]]
    public var metadata: Metadata
    public var warnings: [String]

    /// The whole output in one buffer (a copy when there are several parts).
    public var bytes: [UInt8] { parts.count == 1 ? parts[0] : Array(parts.joined()) }

    /// The output's size.
    public var byteCount: Int { parts.reduce(0) { $0 + $1.count } }
}
