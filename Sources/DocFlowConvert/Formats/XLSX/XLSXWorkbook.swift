import Foundation

/// The parts of a workbook a sheet's cells need: sheet names and paths, the date system, which
/// cell styles are dates, and the shared strings.
struct XLSXWorkbook {
    struct Sheet {
        var name: String
        var path: String
    }

    var sheets: [Sheet] = []
    var date1904 = false
    /// What a number format makes of a serial.
    enum DateKind { case date, dateTime, time }

    /// Per cellXfs index: the format's date kind, nil for plain numbers.
    var dateStyles: [DateKind?] = []
    var sharedStrings: [String] = []

    static let maxSharedStringBytes = 512 << 20

    init(_ zip: ZipArchive) throws {
        let package = OfficePackage(zip: zip, what: "Excel")
        let workbookPath = try package.mainPart(default: "xl/workbook.xml")
        let base = OfficePackage.directory(of: workbookPath)
        let targets = try package.relationships(of: workbookPath).mapValues { ($0.target, $0.type) }  // id → (target, type)
        guard let wb = try zip.open(workbookPath) else {
            throw ConversionError(.malformedInput, "The Excel file has no workbook part (xl/workbook.xml); it is not an XLSX workbook.")
        }
        let x = try XMLStream(wb)
        while let node = try x.next() {
            guard node == .start else { continue }
            if x.isNamed("workbookPr") {
                // Only the main element carries date1904; extension elements (x14:workbookPr) share its name.
                if let v = x.attribute("date1904") { date1904 = v == "1" || v == "true" }
            } else if x.isNamed("sheet") {
                let a = x.attributes()
                let name = a["name"] ?? "Sheet\(sheets.count + 1)"
                if let id = a["id"], let (target, type) = targets[id] {
                    if type.isEmpty || type.hasSuffix("/worksheet") { sheets.append(Sheet(name: name, path: target)) }
                } else {
                    sheets.append(Sheet(name: name, path: (base.isEmpty ? "" : base + "/") + "worksheets/sheet\(sheets.count + 1).xml"))
                }
            }
        }
        guard !sheets.isEmpty else { throw ConversionError(.malformedInput, "The Excel workbook has no worksheets.") }
        let stylesTarget = targets.values.first { $0.1.hasSuffix("/styles") }?.0 ?? (base.isEmpty ? "" : base + "/") + "styles.xml"
        try readStyles(zip, stylesTarget)
        let stringsTarget = targets.values.first { $0.1.hasSuffix("/sharedStrings") }?.0 ?? (base.isEmpty ? "" : base + "/") + "sharedStrings.xml"
        try readSharedStrings(zip, stringsTarget)
    }

    private mutating func readStyles(_ zip: ZipArchive, _ path: String) throws {
        guard let s = try zip.open(path) else { return }
        let x = try XMLStream(s)
        var custom: [Int: String] = [:]
        var inCellXfs = false
        while let node = try x.next() {
            switch node {
            case .start:
                if x.isNamed("numFmt") {
                    let a = x.attributes()
                    if let id = a["numFmtId"].flatMap(Int.init), let code = a["formatCode"] { custom[id] = code }
                } else if x.isNamed("cellXfs") {
                    inCellXfs = !x.isEmptyElement
                } else if inCellXfs && x.isNamed("xf") {
                    let id = x.attribute("numFmtId").flatMap(Int.init) ?? 0
                    dateStyles.append(Self.dateKind(id: id, code: custom[id]))
                }
            case .end:
                if x.isNamed("cellXfs") { inCellXfs = false }
            default: continue
            }
        }
    }

    /// Whether a number format shows a date, a date and time, a time of day, or none of them (nil).
    static func dateKind(id: Int, code: String?) -> DateKind? {
        if let code = code { return dateKind(code: code) }
        switch id {
        case 14...17, 27...31, 34...36, 50...58: return .date
        case 18...21, 32, 33, 45...47: return .time
        case 22: return .dateTime
        default: return nil
        }
    }

    static func dateKind(code: String) -> DateKind? {
        var plain = ""
        var quoted = false, bracket = false, escaped = false
        for ch in code.lowercased() {
            if escaped { escaped = false; continue }
            switch ch {
            case "\\": escaped = true
            case "\"": quoted.toggle()
            case "[": bracket = true
            case "]": bracket = false
            default: if !quoted && !bracket { plain.append(ch) }
            }
        }
        // A section after ';' is for negatives or text: the first section decides.
        let first = plain.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) ?? plain
        let hasDate = first.contains("y") || first.contains("d") || (first.contains("m") && !first.contains("h") && !first.contains("s"))
        let hasTime = first.contains("h") || first.contains("s")
        if hasDate { return hasTime ? .dateTime : .date }
        return hasTime ? .time : nil
    }

    private mutating func readSharedStrings(_ zip: ZipArchive, _ path: String) throws {
        guard let s = try zip.open(path) else { return }
        let x = try XMLStream(s)
        var current = ""
        var inPhonetic = false
        var bytes = 0
        while let node = try x.next() {
            switch node {
            case .start:
                if x.isNamed("si") { current = "" } else if x.isNamed("rPh") { inPhonetic = !x.isEmptyElement } else if x.isNamed("t"), !inPhonetic { current += try x.text() }
                if x.isNamed("si") && x.isEmptyElement { sharedStrings.append("") }
            case .end:
                if x.isNamed("si") {
                    bytes += current.utf8.count + 16
                    guard bytes <= Self.maxSharedStringBytes else {
                        throw ConversionError(.tooLarge, "The Excel file's shared strings exceed \(Self.maxSharedStringBytes >> 20) MiB.")
                    }
                    sharedStrings.append(Self.unescape(current))
                } else if x.isNamed("rPh") { inPhonetic = false }
            default: continue
            }
        }
    }

    /// OOXML's `_xHHHH_` escapes (ST_Xstring): a character XML cannot hold, or `_x005F_` for a
    /// literal underscore that would otherwise start an escape.
    static func unescape(_ s: String) -> String {
        // A byte scan first: nearly every cell has no escape, and String.contains goes through Foundation.
        let u = s.utf8
        guard u.count >= 7, u.contains(0x5F), u.indices.contains(where: { u[$0] == 0x5F && u.index(after: $0) != u.endIndex && u[u.index(after: $0)] == 0x78 }) else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x5F, i + 6 < b.count, b[i + 1] == 0x78, b[i + 6] == 0x5F,
               let v = UInt32(String(decoding: b[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16), let u = Unicode.Scalar(v) {
                out += Array(String(Character(u)).utf8)
                i += 7
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
