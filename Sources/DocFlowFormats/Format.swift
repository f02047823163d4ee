/// Which hub a format's reader produces or its writer consumes.
public enum Hub: String, Sendable {
    case document
    case table
}

/// A file format Doc Flow knows by name.
public struct Format: Hashable, Sendable {
    /// Short identifier used in the API (`to=html`) and as the output file extension.
    public let id: String
    /// Human name.
    public let name: String
    /// File name extensions (lower case, no dot); the first is canonical.
    public let extensions: [String]
    /// MIME type of files in this format (Content-Type of downloads).
    public let mimeType: String
    /// MIME types libmagic may report for genuine files of this format (prefix match with `*`).
    public let sniffedAs: [String]
    /// The hub this format maps to.
    public let hub: Hub

    public init(id: String, name: String, extensions: [String], mimeType: String, sniffedAs: [String], hub: Hub) {
        self.id = id
        self.name = name
        self.extensions = extensions
        self.mimeType = mimeType
        self.sniffedAs = sniffedAs
        self.hub = hub
    }

    /// Whether libmagic's MIME type for some bytes is plausible for this format. A gzip file is
    /// (`report.csv.gz`): the converter inflates it, within its limits, and reads what it holds.
    public func accepts(sniffed mime: String) -> Bool {
        if mime == "application/gzip" || mime == "application/x-gzip" { return true }
        return sniffedAs.contains { pattern in
            pattern.hasSuffix("*") ? mime.hasPrefix(pattern.dropLast()) : mime == pattern
        }
    }

    /// Why content libmagic calls `mime` is not a file of this format, naming what it is when
    /// that is known (an encrypted or legacy Office file, an OpenDocument file).
    public func refusal(sniffed mime: String) -> String {
        switch mime {
        case "application/encrypted", "application/CDFV2-encrypted":
            return "The file is encrypted (a password-protected Office document); Doc Flow cannot open it. Remove the password and upload it again."
        case "application/vnd.ms-excel", "application/msword", "application/vnd.ms-powerpoint", "application/x-ole-storage", "application/CDFV2":
            return "The file is a legacy binary Office file (.xls, .doc or .ppt); Doc Flow reads .xlsx, .docx and .pptx. Save it in that format and upload it again."
        case _ where mime.hasPrefix("application/vnd.oasis.opendocument."):
            return "The file is an OpenDocument file (\(mime.dropFirst("application/vnd.oasis.opendocument.".count))); Doc Flow reads .xlsx, .docx and .pptx. Save it in that format and upload it again."
        default:
            return "The file is named .\(extensions[0]) but its content is \(mime)."
        }
    }
}

extension Format {
    static let textual = ["text/*", "application/csv", "application/json", "application/x-ndjson"]

    public static let markdown = Format(id: "md", name: "Markdown", extensions: ["md", "markdown"],
                                        mimeType: "text/markdown; charset=utf-8", sniffedAs: textual, hub: .document)
    public static let html = Format(id: "html", name: "HTML", extensions: ["html", "htm"],
                                    mimeType: "text/html; charset=utf-8", sniffedAs: textual, hub: .document)
    public static let text = Format(id: "txt", name: "Plain text", extensions: ["txt", "text"],
                                    mimeType: "text/plain; charset=utf-8", sniffedAs: textual, hub: .document)
    public static let csv = Format(id: "csv", name: "CSV", extensions: ["csv", "tsv"],
                                   mimeType: "text/csv; charset=utf-8", sniffedAs: textual, hub: .table)
    public static let json = Format(id: "json", name: "JSON", extensions: ["json"],
                                    mimeType: "application/json", sniffedAs: textual, hub: .table)
    public static let jsonLines = Format(id: "jsonl", name: "JSON Lines", extensions: ["jsonl", "ndjson"],
                                         mimeType: "application/x-ndjson", sniffedAs: textual, hub: .table)
    public static let parquet = Format(id: "parquet", name: "Parquet", extensions: ["parquet"],
                                       mimeType: "application/vnd.apache.parquet",
                                       sniffedAs: ["application/octet-stream", "application/vnd.apache.parquet", "application/x-parquet"],
                                       hub: .table)
    public static let xlsx = Format(id: "xlsx", name: "Excel workbook", extensions: ["xlsx"],
                                    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                    sniffedAs: ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                                "application/zip", "application/octet-stream", "application/x-zip*"],
                                    hub: .table)
    public static let pdf = Format(id: "pdf", name: "PDF", extensions: ["pdf"],
                                   mimeType: "application/pdf", sniffedAs: ["application/pdf"], hub: .document)
    /// Output only: metadata and content as one JSON document (`docs/extract.schema.json`). Its
    /// hub is the table's, so a workbook is extracted as its table (schema and sample).
    public static let extract = Format(id: "extract", name: "Extraction (JSON)", extensions: ["extract.json"],
                                       mimeType: "application/json", sniffedAs: [], hub: .table)
}

extension Format {
    static let office = ["application/zip", "application/octet-stream", "application/x-zip*"]

    public static let docx = Format(id: "docx", name: "Word document", extensions: ["docx"],
                                    mimeType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                    sniffedAs: ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"] + office,
                                    hub: .document)
    public static let pptx = Format(id: "pptx", name: "PowerPoint presentation", extensions: ["pptx"],
                                    mimeType: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                                    sniffedAs: ["application/vnd.openxmlformats-officedocument.presentationml.presentation"] + office,
                                    hub: .document)
}
