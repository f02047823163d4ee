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
        let names = try XLSXWorkbook(zip).sheets.map(\.name)
        var blocks: [Block] = []
        var meta = Metadata()
        for (i, name) in names.enumerated() {
            var options = context.options
            options["sheet"] = String(i + 1)
            let sheetContext = ConversionContext(options: options)
            context.progress(5 + 50 * i / max(names.count, 1), "reading sheet \(name)")
            guard case .table(let table) = try read(bytes, context: sheetContext) else { continue }
            for w in sheetContext.warnings { context.warn("Sheet “\(name)”: " + w) }
            if i == 0 { meta = table.metadata }
            blocks.append(.heading(level: 2, [.text(name)]))
            if table.columns.isEmpty {
                blocks.append(.paragraph([.emphasis([.text("(empty sheet)")])]))
            } else {
                blocks += Payload.table(table).asDocument.blocks
            }
        }
        meta.properties["sheet"] = nil
        meta.properties["sheet_count"] = .number(names.count)
        return Document(metadata: meta, blocks: blocks)
    }
}
