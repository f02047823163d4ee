import DocFlowModel

/// A worksheet's cells as rows, filled by `SheetSAX` and handed on one finished row at a time. A
/// blank row that has cell elements (a row of nulls as Doc Flow writes it) is kept when data
/// follows it; blank rows at the end, and rows with no cell at all, are dropped (as pandas drops
/// trailing ones).
struct SheetGrid {
    typealias Cell = XLSXReader.Cell

    let book: XLSXWorkbook
    let maxCells: Int
    private let onRow: (ArraySlice<Cell>) throws -> Void
    private(set) var rowCount = 0
    var width = 0
    var merged = 0
    private var cells = 0
    /// Text the cells hold, counted per cell: one shared string referenced by every cell is held
    /// once in memory but written out each time.
    private var textBytes = 0
    static let maxTextBytes = 1 << 30

    init(book: XLSXWorkbook, maxCells: Int, onRow: @escaping (ArraySlice<Cell>) throws -> Void) {
        self.book = book
        self.maxCells = maxCells
        self.onRow = onRow
    }

    /// Puts a finished cell into the current row.
    mutating func place(_ cell: Cell, at column: Int, in row: inout [Cell], used: inout Int) throws {
        if case .empty = cell { return }
        let text: Int
        switch cell {
        case .text(let t): text = t.utf8.count
        case .shared(let i): text = book.sharedStrings[i].utf8.count
        default: text = 0
        }
        if text > 0 {
            textBytes += text
            if textBytes > Self.maxTextBytes {
                throw ConversionError(.tooLarge, "The Excel sheet's cells hold over \(Self.maxTextBytes >> 20) MiB of text (one shared string repeated in many cells?); Doc Flow stops there.")
            }
        }
        guard column < 16_384 else { throw ConversionError(.malformedInput, "A cell of the Excel sheet lies past column XFD.") }
        if row.count <= column { row += repeatElement(Cell.empty, count: column + 1 - row.count) }
        row[column] = cell
        used = max(used, column + 1)
    }

    /// Blank rows with cells seen since the last row of data.
    private var pendingBlank = 0

    /// Keeps a finished row, or counts it as pending when it is blank.
    mutating func finish(_ row: [Cell], used: Int, hasCell: Bool, context: ConversionContext) throws {
        guard used > 0 else {
            if hasCell && rowCount > 0 { pendingBlank += 1 }
            return
        }
        while pendingBlank > 0 {
            pendingBlank -= 1
            try onRow([Cell.empty][...])
            rowCount += 1
        }
        width = max(width, used)
        cells += used
        guard cells <= maxCells, rowCount.multipliedReportingOverflow(by: width).partialValue <= maxCells else {
            throw ConversionError(.tooLarge, "The Excel sheet holds more cells than Doc Flow converts at once (\(maxCells)).")
        }
        try onRow(row[0..<used])
        rowCount += 1
        if rowCount & 0xFFFF == 0 { context.progress(10 + min(20, rowCount / 50_000), "read \(rowCount) rows") }
    }

    /// `type` is the cell's `t` attribute as `SheetSAX` gives it: s (shared), S (str),
    /// I (inlineStr), b, e, d, n or 0 (absent).
    func cell(type: UInt8, style: Int, value: String?, inline: String?) throws -> Cell {
        switch type {
        case 0x73:
            guard let v = value, let i = Int(v) else { return .empty }
            guard i >= 0, i < book.sharedStrings.count else {
                throw ConversionError(.malformedInput, "A cell of the Excel sheet points at shared string \(i), which does not exist.")
            }
            return .shared(i)
        case 0x49: return .text(XLSXWorkbook.unescape(inline ?? value ?? ""))
        case 0x53, 0x65: return value.map { .text(XLSXWorkbook.unescape($0)) } ?? .empty
        case 0x62: return value.map { .bool($0 == "1" || $0 == "true") } ?? .empty
        case 0x64:
            guard let v = value else { return .empty }
            if let d = TemporalText.days(v) { return .date(d) }
            if let (us, _) = TemporalText.micros(v) { return .dateTime(us) }
            return .text(v)
        default:
            guard let v = value, !v.isEmpty else { return .empty }
            let dateKind = style >= 0 && style < book.dateStyles.count ? book.dateStyles[style] : nil
            if dateKind == nil, !v.utf8.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }), let i = Int64(v) { return .int(i) }
            guard let d = Double(v) else { return .text(v) }
            switch dateKind {
            case nil: return .double(d)
            case let kind? where kind == .time || (d >= 0 && d < 1):
                // A time of day (h:mm, or a date format on a serial below 1, which is no date): its
                // text, as openpyxl gives a time; durations past a day stay numbers.
                guard d >= 0, d < 1 else { return .double(d) }
                let ms = Int64((d * 86_400_000).rounded())
                return .text(CivilTime.timeText(seconds: ms / 1000, fraction: ms % 1000 * 1000, perSecond: 1_000_000))
            case let kind?:
                return Self.date(serial: d, withTime: kind == .dateTime, date1904: book.date1904) ?? .double(d)
            }
        }
    }

    /// An Excel serial → a date or date-time (nil outside years 1900–9999).
    static func date(serial: Double, withTime: Bool, date1904: Bool) -> Cell? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        var day = serial.rounded(.down)
        if !date1904 && day < 61 { day += 1 }  // Lotus' phantom 1900-02-29: serials before it are a day early
        let epochDays = Int64(day) - (date1904 ? 24_107 : 25_569)
        let us = Int64(((serial - serial.rounded(.down)) * 86_400_000).rounded()) * 1_000  // to the millisecond, as Excel shows
        if !withTime && us == 0 { return .date(epochDays) }
        return .dateTime(epochDays * 86_400_000_000 + us)
    }
}
