import DocFlowModel

/// A reader whose file can hold several tables; as a document, each becomes a titled table.
protocol MultiTableReader: Reader {
    func readDocument(_ bytes: [UInt8], context: ConversionContext) throws -> Document
}

extension XLSXReader: MultiTableReader {
    /// Every sheet of the workbook as a heading (the sheet's name) and its table, for Markdown,
    /// HTML, TXT and PDF output. Empty sheets are named with a note; the `sheet` option (handled by
    /// the registry) narrows the output to one sheet as usual.
    func readDocument(_ bytes: [UInt8], context: ConversionContext) throws -> Document {
        let zip = try ZipArchive(bytes, what: "Excel")
        let book = try XLSXWorkbook(zip)  // shared strings and styles parsed once for every sheet
        var blocks: [Block] = []
        var meta = Metadata()
        meta.properties["sheets"] = .list(book.sheets.map { .text($0.name) })
        for (i, sheet) in book.sheets.enumerated() {
            context.progress(5 + 50 * i / max(book.sheets.count, 1), "reading sheet \(sheet.name)")
            let sheetContext = ConversionContext(options: context.options)
            let table = try table(of: sheet, in: book, zip: zip, context: sheetContext)
            for w in sheetContext.warnings { context.warn("Sheet “\(sheet.name)”: " + w) }
            blocks.append(.heading(level: 2, [.text(sheet.name)]))
            if let table {
                blocks += Payload.table(table).asDocument.blocks
            } else {
                blocks.append(.paragraph([.emphasis([.text("(empty sheet)")])]))
            }
        }
        meta.properties["sheet_count"] = .number(book.sheets.count)
        return Document(metadata: meta, blocks: blocks)
    }
}
