import CXLSXWriter
import DocFlowCore
import DocFlowModel
import Foundation

/// Excel workbooks written by libxlsxwriter in constant-memory mode: typed cells (numbers, booleans,
/// real dates and date-times with a date format), a bold frozen header row and widths from the
/// data. A table longer than a sheet (1,048,576 rows with the header) continues on further sheets
/// (`data`, `data (2)`, …), each with the header, and the job says so in a warning. Integers past
/// 2^53, which Excel's doubles would round, and dates before 1900-03-01, which Excel cannot show,
/// are written as text. NaN and the infinities, which a cell cannot hold as numbers, are the text
/// `NaN`, `inf`, `-inf` (with a warning); binary values base64 text, nested values JSON text. A row
/// of nulls is kept as an empty row.
public struct XLSXWriter: TableStreamWriter {
    public let format = Format.xlsx
    public let accepts: Set<Hub> = [.table]
    public let options = [TableOptions.sheetName, TableOptions.rowsPerSheet]
    public init() {}

    static let maxCellText = 32_767
    /// Excel's (and libxlsxwriter's) widest sheet: columns A to XFD. `lxw_col_t` is 16 bits wide,
    /// so a wider table must be refused before any index reaches it.
    static let maxColumns = 16_384
    static let exactDoubleLimit: Int64 = 1 << 53

    public func write(_ stream: TableStream, to sink: ByteSink, context: ConversionContext) throws {
        let sheetName = sheetNameOption(context)
        let rowsPerSheet = rowsPerSheetOption(context)
        let path = NSTemporaryDirectory() + "/docflow-xlsx-\(UUID().uuidString).xlsx"
        defer { unlink(path) }
        var options = lxw_workbook_options(constant_memory: 1, tmpdir: nil, use_zip64: 1)
        guard let wb = workbook_new_opt(path, &options) else {
            throw ConversionError(.internal, "The Excel workbook could not be created.")
        }
        let bold = workbook_add_format(wb)
        format_set_bold(bold)
        let dateFormat = workbook_add_format(wb)
        format_set_num_format(dateFormat, "yyyy-mm-dd")
        // A row of nulls is kept as a blank cell with this (empty) format in its first column:
        // libxlsxwriter writes no blank cell without a format, and readers (openpyxl, ours) skip
        // a <row> that has no cell.
        let emptyRow = workbook_add_format(wb)
        let timeFormat = workbook_add_format(wb)
        format_set_num_format(timeFormat, "yyyy-mm-dd hh:mm:ss")
        var widths: [Double]? = nil
        var truncated = 0, asText = 0, nonFinite = 0
        var exact = ExactNumbers()
        var sheet: UnsafeMutablePointer<lxw_worksheet>? = nil
        var row: UInt32 = 0
        var sheets = 0
        var cell: [CChar] = []
        // Batch by batch; libxlsxwriter's constant-memory mode flushes each row as it goes.
        while let table = try stream.next() {
            guard table.columns.count <= Self.maxColumns else {
                workbook_close(wb)
                throw ConversionError(.tooLarge, "XLSX holds at most \(Self.maxColumns) columns; this table has \(table.columns.count). "
                                      + "Convert it to CSV, JSON or Parquet, or split its columns.")
            }
            if widths == nil { widths = Self.widths(table) }
            for r in 0..<table.rowCount {
                if sheet == nil || Int(row) > rowsPerSheet {
                    sheets += 1
                    let name = sheets == 1 ? sheetName : "\(sheetName.prefix(24)) (\(sheets))"
                    guard let ws = workbook_add_worksheet(wb, name) else {
                        workbook_close(wb)
                        throw ConversionError(.internal, "The Excel sheet could not be added.")
                    }
                    for (c, w) in (widths ?? []).enumerated() { worksheet_set_column(ws, lxw_col_t(c), lxw_col_t(c), w, nil) }
                    worksheet_freeze_panes(ws, 1, 0)
                    for (c, col) in table.columns.enumerated() { worksheet_write_string(ws, 0, lxw_col_t(c), String(col.name.prefix(Self.maxCellText)), bold) }
                    sheet = ws
                    row = 1
                }
                let ws = sheet
                var cells = 0
                func text<C: Collection>(_ bytes: C, _ col: lxw_col_t) where C.Element == UInt8 {
                    if bytes.count > Self.maxCellText, String(decoding: bytes, as: UTF8.self).utf16.count > Self.maxCellText {
                        truncated += 1
                        let s = String(decoding: bytes, as: UTF8.self)
                        worksheet_write_string(ws, row, col, String(s.utf16.prefix(Self.maxCellText)) ?? String(s.prefix(Self.maxCellText / 2)), nil)
                    } else {
                        // NUL-terminated copy of the cell's bytes, no String in between.
                        cell.removeAll(keepingCapacity: true)
                        cell.append(contentsOf: bytes.lazy.map { CChar(bitPattern: $0) })
                        cell.append(0)
                        worksheet_write_string(ws, row, col, cell, nil)
                    }
                }
                for (c, v) in table.data.enumerated() where !v.isNull(r) {
                    let col = lxw_col_t(c)
                    cells += 1
                    switch v.type {
                    case .int64:
                        let i = v.ints[r]
                        if i.magnitude <= UInt64(Self.exactDoubleLimit) { worksheet_write_number(ws, row, col, Double(i), nil) } else {
                            worksheet_write_string(ws, row, col, String(i), nil); asText += 1
                        }
                    case .double:
                        let d = v.doubles[r]
                        if d.isFinite && !ExactNumbers.fitsSixteenDigits(d) {
                            worksheet_write_string(ws, row, col, exact.text(d, sheet: sheets), nil)
                        } else if d.isFinite {
                            worksheet_write_number(ws, row, col, d, nil)
                        } else {
                            worksheet_write_string(ws, row, col, Value.double(d).text, nil); nonFinite += 1
                        }
                    case .boolean: worksheet_write_boolean(ws, row, col, v.bools[r] ? 1 : 0, nil)
                    case .date:
                        let serial = Int64(v.days[r]) + ExcelDate.epochOffset
                        if serial >= 61 && serial < 2_958_466 { worksheet_write_number(ws, row, col, Double(serial), dateFormat) } else {
                            worksheet_write_string(ws, row, col, CivilTime.dateText(days: Int64(v.days[r])), nil)
                        }
                    case .timestamp:
                        let days = Double(v.ints[r]) / Double(v.perSecond) / 86_400
                        let serial = days + Double(ExcelDate.epochOffset)
                        if serial >= 61 && serial < 2_958_466 { worksheet_write_number(ws, row, col, serial, timeFormat) } else {
                            worksheet_write_string(ws, row, col, CivilTime.timestampText(v.ints[r], perSecond: v.perSecond, utc: v.utc), nil)
                        }
                    case .string, .json:
                        let bytes = v.utf8(at: r)
                        if bytes.isEmpty { cells -= 1; continue }
                        text(bytes, col)
                    case .binary:
                        var b64: [UInt8] = []
                        Base64.append(v.utf8(at: r), to: &b64)
                        if b64.isEmpty { cells -= 1; continue }
                        text(b64, col)
                    }
                }
                // A row with no value is still a row.
                if cells == 0 { worksheet_write_blank(ws, row, 0, emptyRow) }
                row += 1
            }
            context.progress(30 + 65 * stream.rowsRead / max(stream.rowCount, 1), "writing Excel rows")
        }
        if sheet == nil, let ws = workbook_add_worksheet(wb, sheetName) {
            for (c, col) in stream.columns.enumerated() { worksheet_write_string(ws, 0, lxw_col_t(c), col.name, bold) }
            sheets = 1
        }
        let rc = workbook_close(wb)
        guard rc == LXW_NO_ERROR else {
            throw ConversionError(.internal, "The Excel workbook could not be written (\(String(cString: lxw_strerror(rc)))).")
        }
        try exact.apply(to: path)
        if sheets > 1 { context.warn("The table has more rows than an Excel sheet holds; it continues on \(sheets) sheets, each with the header.") }
        if truncated > 0 { context.warn("\(truncated) cell(s) longer than Excel's 32,767 characters were cut short.") }
        if nonFinite > 0 { context.warn("\(nonFinite) NaN or infinite value(s) were written as the text NaN, inf or -inf: Excel numbers cannot hold them.") }
        if asText > 0 { context.warn("\(asText) integer(s) too large for Excel's numbers were written as text.") }
        context.report("sheets", .number(sheets))
        // The finished workbook into the sink, a few MB at a time.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConversionError(.internal, "The Excel workbook could not be read back.") }
        defer { close(fd) }
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ConversionError(.internal, "The Excel workbook could not be read back.") }
            if n == 0 { break }
            try sink.write(n == chunk.count ? chunk : Array(chunk[0..<n]))
        }
    }

    /// The `sheet_name` option (checked: 1 to 31 characters Excel allows in a sheet name).
    private func sheetNameOption(_ context: ConversionContext) -> String {
        context.options.text(TableOptions.sheetName) ?? "data"
    }

    /// Rows of data per sheet (the header takes one more); an option so tests can see a rollover.
    private func rowsPerSheetOption(_ context: ConversionContext) -> Int {
        let most = Int(LXW_ROW_MAX) - 1
        return min(context.options.int(TableOptions.rowsPerSheet) ?? most, most)
    }

    /// Column widths from the header and the first 1,000 rows, 8 to 60 characters.
    static func widths(_ table: Table) -> [Double] {
        table.columns.indices.map { c in
            var w = table.columns[c].name.count + 2
            let v = table.data[c]
            for r in 0..<min(v.count, 1000) {
                switch v.type {
                case .date: w = max(w, 10)
                case .timestamp: w = max(w, 19)
                case .string, .json: w = max(w, min(String(decoding: v.utf8(at: r), as: UTF8.self).count, 60))
                case .binary: w = max(w, min((v.utf8(at: r).count + 2) / 3 * 4, 60))
                default: w = max(w, min(v.value(at: r).text.count, 60))
                }
            }
            return Double(min(max(w + 1, 8), 60))
        }
    }
}

/// Excel's date serials (the 1900 system: day 1 is 1900-01-01, with its phantom 1900-02-29).
enum ExcelDate {
    static let epochOffset: Int64 = 25_569  // serial of 1970-01-01
}
