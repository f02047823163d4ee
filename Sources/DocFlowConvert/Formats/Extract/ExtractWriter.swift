import DocFlowCore
import DocFlowModel

/// Extraction as a result of its own: one JSON document (`docs/extract.schema.json`) with the
/// input's metadata — the same object the job's metadata holds — and its content. A document
/// gives its outline and its blocks (headings, paragraphs, lists, tables, code, quotes, breaks)
/// as plain text with their links and images; a table its schema, row count and a sample of its
/// first rows. Tables stream: only the sample is held.
public struct ExtractWriter: TableStreamWriter {
    public let format = Format.extract
    public let accepts: Set<Hub> = [.document, .table]
    public init() {}

    /// Rows of a table kept in the sample.
    static let sampleRows = 20
    static let version = 1

    public func writeParts(_ payload: Payload, context: ConversionContext) throws -> [[UInt8]] {
        switch payload {
        case .table(let t):
            let sink = MemorySink()
            try write(TableStream(t), to: sink, context: context)
            return sink.parts
        case .document(let d):
            var out = JSONOut()
            out.raw("{\"extract_version\": \(Self.version), \"kind\": \"document\", \"metadata\": ")
            out.raw(JobMetadata.merged(JobMetadata.document(d), context).json)
            out.raw(", \"outline\": [")
            for (i, h) in d.outline.enumerated() {
                out.raw(i == 0 ? "" : ", ")
                out.raw("{\"level\": \(h.level), \"text\": "); out.string(h.text); out.raw("}")
            }
            out.raw("], \"blocks\": ")
            Self.blocks(d.blocks, to: &out)
            out.raw("}\n")
            return [out.bytes]
        }
    }

    public func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws {
        var sample: [Table] = []
        var kept = 0
        while let batch = try stream.next() {
            if kept < Self.sampleRows {
                let n = min(batch.rowCount, Self.sampleRows - kept)
                var part = batch
                part.data = batch.data.map { col in
                    var c = ColumnValues(type: col.type, capacity: n)
                    c.perSecond = col.perSecond
                    c.utc = col.utc
                    for r in 0..<n { c.append(from: col, at: r) }
                    return c
                }
                sample.append(part)
                kept += n
            }
            context.progress(30 + 65 * stream.rowsRead / max(stream.rowCount, 1), "reading the table")
        }
        let meta = JobMetadata.merged(JobMetadata.table(stream.metadata, columns: stream.columns, rows: stream.rowsRead), context)
        var out = JSONOut()
        out.raw("{\"extract_version\": \(Self.version), \"kind\": \"table\", \"metadata\": ")
        out.raw(meta.json)
        out.raw(", \"schema\": [")
        for (i, c) in stream.columns.enumerated() {
            out.raw(i == 0 ? "{\"name\": " : ", {\"name\": "); out.string(c.name); out.raw(", \"type\": \"\(c.type.rawValue)\"}")
        }
        out.raw("], \"rows\": \(stream.rowsRead), \"sample\": [")
        var first = true
        for part in sample {
            for r in 0..<part.rowCount {
                out.raw(first ? "\n  {" : ",\n  {")
                first = false
                for (c, col) in part.data.enumerated() {
                    if c > 0 { out.raw(", ") }
                    out.string(stream.columns[c].name)
                    out.raw(": ")
                    CellText.appendJSON(col, r, to: &out.bytes)
                }
                out.raw("}")
            }
        }
        out.raw(first ? "]}\n" : "\n]}\n")
        try sink.write(out.bytes)
    }

    /// Blocks as a JSON array of objects, each with its `type`.
    static func blocks(_ bs: [Block], to out: inout JSONOut) {
        out.raw("[")
        for (i, b) in bs.enumerated() {
            out.raw(i == 0 ? "" : ", ")
            switch b {
            case .heading(let level, let xs):
                out.raw("{\"type\": \"heading\", \"level\": \(level), "); inlines(xs, to: &out); out.raw("}")
            case .paragraph(let xs):
                out.raw("{\"type\": \"paragraph\", "); inlines(xs, to: &out); out.raw("}")
            case .blockQuote(let inner):
                out.raw("{\"type\": \"quote\", \"blocks\": "); blocks(inner, to: &out); out.raw("}")
            case .list(let ordered, let start, _, let items):
                out.raw("{\"type\": \"list\", \"ordered\": \(ordered), \"start\": \(start), \"items\": [")
                for (k, item) in items.enumerated() {
                    out.raw(k == 0 ? "{" : ", {")
                    if let c = item.checked { out.raw("\"checked\": \(c), ") }
                    out.raw("\"blocks\": "); blocks(item.blocks, to: &out); out.raw("}")
                }
                out.raw("]}")
            case .codeBlock(let language, let code):
                out.raw("{\"type\": \"code\", ")
                if let language { out.raw("\"language\": "); out.string(language); out.raw(", ") }
                out.raw("\"text\": "); out.string(code); out.raw("}")
            case .thematicBreak:
                out.raw("{\"type\": \"rule\"}")
            case .pageBreak:
                out.raw("{\"type\": \"page_break\"}")
            case .table(let header, _, let rows):
                out.raw("{\"type\": \"table\", \"header\": ")
                cells(header, to: &out)
                out.raw(", \"rows\": [")
                for (k, row) in rows.enumerated() { out.raw(k == 0 ? "" : ", "); cells(row, to: &out) }
                out.raw("]}")
            case .raw(let format, let text):
                out.raw("{\"type\": \"raw\", \"format\": "); out.string(format); out.raw(", \"text\": "); out.string(text); out.raw("}")
            }
        }
        out.raw("]")
    }

    private static func cells(_ row: [[Inline]], to out: inout JSONOut) {
        out.raw("[")
        for (k, cell) in row.enumerated() { out.raw(k == 0 ? "" : ", "); out.string(Inline.plainText(cell)) }
        out.raw("]")
    }

    /// `"text": …` and, when there are any, `"links"` (text and URL) and `"images"` (alt and URL;
    /// embedded pictures as `data:` URLs are named by their media type only).
    private static func inlines(_ xs: [Inline], to out: inout JSONOut) {
        out.raw("\"text\": "); out.string(Inline.plainText(xs))
        var links: [(String, String)] = [], images: [(String, String)] = []
        func walk(_ xs: [Inline]) {
            for x in xs {
                switch x {
                case .link(let url, _, let c): links.append((Inline.plainText(c), url)); walk(c)
                case .image(let url, _, let alt):
                    let shown = url.hasPrefix("data:") ? String(url.prefix { $0 != ";" && $0 != "," }) : url
                    images.append((Inline.plainText(alt), shown))
                case .emphasis(let c), .strong(let c), .strikethrough(let c), .underline(let c): walk(c)
                default: break
                }
            }
        }
        walk(xs)
        for (key, list, field) in [("links", links, "text"), ("images", images, "alt")] where !list.isEmpty {
            out.raw(", \"\(key)\": [")
            for (k, item) in list.enumerated() {
                out.raw(k == 0 ? "{\"\(field)\": " : ", {\"\(field)\": "); out.string(item.0); out.raw(", \"url\": "); out.string(item.1); out.raw("}")
            }
            out.raw("]")
        }
    }
}

/// A JSON text being built as UTF-8 bytes.
struct JSONOut {
    var bytes: [UInt8] = []
    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func string(_ s: String) { JSONText.appendQuoted(Array(s.utf8), to: &bytes) }
}
