import DocFlowModel

/// Excel workbooks (XLSX, transitional or strict OOXML): one sheet — `sheet` names it, or gives its
/// position counting from 1; the first by default — streamed with libxml2's reader from a bounded
/// zip stream. Shared and inline strings, numbers (integers kept apart), booleans, errors as their
/// text, dates and date-times from the cell's number format (1900 and 1904 systems), cached formula
/// values, sparse rows and columns. Fully blank rows are skipped (as pandas does); the first
/// remaining row is the header unless `header` is false. Merged ranges keep their value in the first
/// cell, with a warning. Every sheet's name is listed in the metadata.
public struct XLSXReader: Reader {
    public let format = Format.xlsx
    public init() {}

    static let maxCells = 100_000_000

    /// A cell as read, before the column's type is settled.
    enum Cell {
        case empty, int(Int64), double(Double), bool(Bool), text(String)
        case date(Int64), dateTime(Int64)  // days / µs since the epoch
    }

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let zip = try ZipArchive(bytes, what: "Excel")
        let book = try XLSXWorkbook(zip)
        let sheet = try chooseSheet(book, context)
        guard let table = try table(of: sheet, in: book, zip: zip, context: context) else {
            throw ConversionError(.malformedInput, "The Excel sheet “\(sheet.name)” is empty.")
        }
        return .table(table)
    }

    /// One sheet of an open workbook as a table; nil when the sheet holds no cells.
    func table(of sheet: XLSXWorkbook.Sheet, in book: XLSXWorkbook, zip: ZipArchive, context: ConversionContext) throws -> Table? {
        guard let stream = try zip.open(sheet.path) else {
            throw ConversionError(.malformedInput, "The Excel sheet “\(sheet.name)” has no data part (\(sheet.path)).")
        }
        context.progress(10, "reading sheet \(sheet.name)")
        let parser = SheetSAX(grid: SheetGrid(book: book, maxCells: Self.maxCells), context: context)
        try parser.parse(stream)
        let grid = parser.grid
        if grid.merged > 0 {
            context.warn("\(grid.merged) merged cell range(s): each value is kept in the range's first cell, the others are empty.")
        }
        var rows = grid.rows
        let hasHeader = (context.options["header"] as? Bool) ?? true
        let width = grid.width
        var names: [String]
        if hasHeader, !rows.isEmpty {
            names = rows.removeFirst().map { cell -> String in
                switch cell {
                case .empty: return ""
                case .text(let s): return s
                default: return Self.text(of: cell)
                }
            }
            names += Array(repeating: "", count: max(0, width - names.count))
        } else {
            names = (0..<width).map { "column_\($0 + 1)" }
        }
        names = CSVReader.uniqueNames(names)
        context.progress(60, "typing columns")
        var columns: [Column] = []
        var kinds: [ColumnType] = []
        for c in 0..<width {
            let t = Self.type(of: rows.lazy.map { c < $0.count ? $0[c] : .empty })
            kinds.append(t)
            columns.append(Column(name: names[c], type: t))
        }
        var data = kinds.map { ColumnValues(type: $0, capacity: rows.count) }
        for row in rows {
            for c in 0..<width { Self.append(c < row.count ? row[c] : .empty, to: &data[c]) }
        }
        var meta = Metadata()
        meta.properties["sheet"] = .text(sheet.name)
        meta.properties["sheets"] = .list(book.sheets.map { .text($0.name) })
        return columns.isEmpty ? nil : Table(columns: columns, data: data, metadata: meta)
    }

    private func chooseSheet(_ book: XLSXWorkbook, _ context: ConversionContext) throws -> XLSXWorkbook.Sheet {
        guard let want = context.string("sheet") else { return book.sheets[0] }
        if let s = book.sheets.first(where: { $0.name == want }) { return s }
        if let n = Int(want), n >= 1, n <= book.sheets.count { return book.sheets[n - 1] }
        let list = book.sheets.map { "“\($0.name)”" }.joined(separator: ", ")
        throw ConversionError(.badOptions, "The workbook has no sheet “\(want)”; its sheets are \(list) (or give a position from 1 to \(book.sheets.count)).")
    }

    static func type<S: Sequence>(of cells: S) -> ColumnType where S.Element == Cell {
        var ints = 0, doubles = 0, bools = 0, dates = 0, times = 0, texts = 0
        for c in cells {
            switch c {
            case .empty: continue
            case .int: ints += 1
            case .double: doubles += 1
            case .bool: bools += 1
            case .date: dates += 1
            case .dateTime: times += 1
            case .text: texts += 1
            }
        }
        let total = ints + doubles + bools + dates + times + texts
        if total == 0 || texts > 0 { return .string }
        if ints == total { return .int64 }
        if ints + doubles == total { return .double }
        if bools == total { return .boolean }
        if dates == total { return .date }
        if dates + times == total { return .timestamp }
        return .string
    }

    /// A cell into its column (typed by `type(of:)`, so it fits, or the column is text).
    static func append(_ cell: Cell, to col: inout ColumnValues) {
        switch (cell, col.type) {
        case (.empty, _): col.appendNull()
        case (.int(let i), .double): col.append(double: Double(i))
        case (.int(let i), .int64): col.append(int: i)
        case (.double(let d), .double): col.append(double: d)
        case (.bool(let b), .boolean): col.append(bool: b)
        case (.date(let d), .date): col.append(days: Int32(truncatingIfNeeded: d))
        case (.date(let d), .timestamp): col.append(int: d * 86_400_000_000)
        case (.dateTime(let us), .timestamp): col.append(int: us)
        case (.text(let s), _): col.append(string: s)
        default: col.append(string: text(of: cell))
        }
    }

    static func text(of cell: Cell) -> String {
        switch cell {
        case .empty: return ""
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .text(let s): return s
        case .date(let d): return CivilTime.dateText(days: d)
        case .dateTime(let us): return CivilTime.timestampText(us, perSecond: 1_000_000, utc: false)
        }
    }
}
