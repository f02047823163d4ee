import DocFlowCore
import DocFlowModel

/// Excel workbooks (XLSX, transitional or strict OOXML): one sheet — `sheet` names it, or gives its
/// position counting from 1; the first by default — streamed with libxml2's reader from a bounded
/// zip stream. Shared and inline strings, numbers (integers kept apart), booleans, errors as their
/// text, dates and date-times from the cell's number format (1900 and 1904 systems), cached formula
/// values, sparse rows and columns. Fully blank rows are skipped (as pandas does); the first
/// remaining row is the header unless `header` is false. Merged ranges keep their value in the first
/// cell, with a warning. Every sheet's name is listed in the metadata.
public struct XLSXReader: TableStreamReader {
    public let format = Format.xlsx
    public let options = [TableOptions.sheet, TableOptions.header]
    public init() {}

    static let maxCells = 100_000_000
    /// Rows per batch handed on.
    static let batchRows = 65_536

    /// A cell as read, before the column's type is settled.
    enum Cell {
        case empty, int(Int64), double(Double), bool(Bool), text(String)
        case date(Int64), dateTime(Int64)  // days / µs since the epoch
        /// Shared string `i`: kept as its index until the rows come back from the `SheetSpill`
        /// (one long string in a million cells is set aside as a million indexes, not copies).
        case shared(Int)
    }

    public func stream(_ input: InputBytes, context: ConversionContext) throws -> TableStream {
        let zip = try ZipArchive(input, what: "Excel")
        let book = try XLSXWorkbook(zip)
        let sheet = try chooseSheet(book, context)
        if let stream = try stream(of: sheet, in: book, zip: zip, context: context) { return stream }
        // No sheet was chosen and the first is empty: the first sheet with data, said in a warning.
        if context.options.text(TableOptions.sheet) == nil {
            for other in book.sheets.dropFirst() {
                if let stream = try stream(of: other, in: book, zip: zip, context: context) {
                    context.warn("The first sheet “\(sheet.name)” is empty; “\(other.name)”, the first sheet with data, was read (the sheet option chooses another).")
                    return stream
                }
            }
            if book.sheets.count > 1 { throw ConversionError(.malformedInput, "Every sheet of the Excel workbook is empty.") }
        }
        throw ConversionError(.malformedInput, "The Excel sheet “\(sheet.name)” is empty.")
    }

    /// One sheet of an open workbook as a table; nil when the sheet holds no cells.
    func table(of sheet: XLSXWorkbook.Sheet, in book: XLSXWorkbook, zip: ZipArchive, context: ConversionContext) throws -> Table? {
        try stream(of: sheet, in: book, zip: zip, context: context)?.collect()
    }

    /// One sheet as a stream; nil when the sheet holds no cells. The XML is parsed once: each
    /// row's cells are tallied per column (for the types) and set aside in a `SheetSpill`, then
    /// handed on in batches with the settled types.
    func stream(of sheet: XLSXWorkbook.Sheet, in book: XLSXWorkbook, zip: ZipArchive, context: ConversionContext) throws -> TableStream? {
        guard let entry = try zip.open(sheet.path) else {
            throw ConversionError(.malformedInput, "The Excel sheet “\(sheet.name)” has no data part (\(sheet.path)).")
        }
        context.progress(10, "reading sheet \(sheet.name)")
        let hasHeader = context.options.bool(TableOptions.header) ?? true
        let spill = try SheetSpill(strings: book.sharedStrings)
        var header: [Cell]? = nil
        var tallies: [Tally] = []
        let grid = SheetGrid(book: book, maxCells: Self.maxCells) { row in
            if hasHeader && header == nil { header = Array(row); return }
            if tallies.count < row.count { tallies += Array(repeating: Tally(), count: row.count - tallies.count) }
            for (c, cell) in row.enumerated() { tallies[c].add(cell) }
            try spill.append(row)
        }
        let parser = SheetSAX(grid: grid, context: context)
        try parser.parse(entry)
        if parser.grid.merged > 0 {
            context.warn("\(parser.grid.merged) merged cell range(s): each value is kept in the range's first cell, the others are empty.")
        }
        let width = parser.grid.width
        guard width > 0 else { return nil }
        try spill.rewind()
        var names: [String]
        if let header {
            names = header.map { cell -> String in
                switch cell {
                case .empty: return ""
                case .text(let s): return s
                case .shared(let i): return book.sharedStrings[i]
                default: return Self.text(of: cell)
                }
            }
            names += Array(repeating: "", count: max(0, width - names.count))
        } else {
            names = (0..<width).map { "column_\($0 + 1)" }
        }
        names = ColumnNames.unique(names)
        tallies += Array(repeating: Tally(), count: max(0, width - tallies.count))
        let types = tallies.map(\.type)
        var meta = Metadata()
        meta.properties["sheet"] = .text(sheet.name)
        meta.properties["sheets"] = .list(book.sheets.map { .text($0.name) })
        return TableStream(columns: Swift.zip(names, types).map { Column(name: $0, type: $1) }, metadata: meta, rowCount: spill.rows) {
            try spill.next(Self.batchRows, types: types)
        }
    }

    private func chooseSheet(_ book: XLSXWorkbook, _ context: ConversionContext) throws -> XLSXWorkbook.Sheet {
        guard let want = context.options.text(TableOptions.sheet) else { return book.sheets[0] }
        if let s = book.sheets.first(where: { $0.name == want }) { return s }
        if let n = Int(want), n >= 1, n <= book.sheets.count { return book.sheets[n - 1] }
        let list = book.sheets.map { "“\($0.name)”" }.joined(separator: ", ")
        throw ConversionError(.badOptions, "The workbook has no sheet “\(want)”; its sheets are \(list) (or give a position from 1 to \(book.sheets.count)).")
    }

    /// A column's cells by kind, which settle its type.
    struct Tally {
        var ints = 0, doubles = 0, bools = 0, dates = 0, times = 0, texts = 0

        mutating func add(_ c: Cell) {
            switch c {
            case .empty: break
            case .int: ints += 1
            case .double: doubles += 1
            case .bool: bools += 1
            case .date: dates += 1
            case .dateTime: times += 1
            case .text, .shared: texts += 1
            }
        }

        var type: ColumnType {
            let total = ints + doubles + bools + dates + times + texts
            if total == 0 || texts > 0 { return .string }
            if ints == total { return .int64 }
            if ints + doubles == total { return .double }
            if bools == total { return .boolean }
            if dates == total { return .date }
            if dates + times == total { return .timestamp }
            return .string
        }
    }

    /// A cell into its column (typed by `Tally.type`, so it fits, or the column is text).
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
        case (.shared, _): col.appendNull()  // never here: the spill hands shared strings back as text
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
        case .shared: return ""  // never here: resolved where the strings are at hand
        case .date(let d): return CivilTime.dateText(days: d)
        case .dateTime(let us): return CivilTime.timestampText(us, perSecond: 1_000_000, utc: false)
        }
    }
}
