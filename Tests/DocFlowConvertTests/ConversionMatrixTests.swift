import DocFlowConvert
import Testing

/// The web layer answers from `ConversionMatrix.standard` without linking the converters: it must
/// say exactly what the registry of readers and writers can do.
@Test func declaredMatrixIsTheRegistrysOwn() {
    let registry = FormatRegistry.standard
    #expect(registry.matrix == ConversionMatrix.standard)
    for from in registry.formats {
        #expect(ConversionMatrix.standard.targets(from: from) == registry.targets(from: from), "\(from.id)")
    }
    #expect(ConversionMatrix.standard.format(named: "MARKDOWN") == .markdown)
    #expect(ConversionMatrix.standard.format(forFilename: "a.tsv") == .csv)
    #expect(ConversionMatrix.standard.format(forFilename: ".csv") == nil)
    #expect(!ConversionMatrix.standard.supports(from: .pdf, to: .xlsx))
}

/// The upload check and `GET /api/formats` answer from `ConverterOptions.standard`: it must be
/// exactly what each reader and writer declares (and reads).
@Test func declaredOptionsAreTheConvertersOwn() {
    let registry = FormatRegistry.standard
    #expect(registry.options == ConverterOptions.standard)
    #expect(registry.options.forPair(from: .csv, to: .pdf).map(\.name) == ["delimiter", "header", "infer_types", "keep_empty_strings", "page_size", "font", "renderer"])
    #expect(registry.options.forPair(from: .markdown, to: .text).isEmpty)
}

/// Every conversion reads only the options its reader and writer declare: the declarations the
/// upload is checked against are the whole truth (a writer reading its reader's option unseen
/// would have it refused at upload, or honoured without being listed).
@Test func everyConversionReadsOnlyTheOptionsItDeclares() throws {
    let registry = FormatRegistry.standard
    let samples: [Format: [UInt8]] = [
        .markdown: try Fixtures.bytes("md/docling__blocks.md"), .csv: try Fixtures.bytes("csv/csvkit__dummy.csv"),
        .text: Array("Plain text\n\nTwo paragraphs.\n".utf8), .html: Array("<h1>T</h1><p>a <b>b</b></p><ul><li>x</li></ul>".utf8),
        .parquet: try Fixtures.bytes("parquet/parquet-testing__alltypes_plain.parquet"), .json: try Fixtures.bytes("json/frictionless__table.json"),
        .jsonLines: try Fixtures.bytes("json/frictionless__table.ndjson"), .xlsx: try Fixtures.bytes("xlsx/csvkit__dummy.xlsx"),
        .pdf: try Fixtures.bytes("pdf/markitdown__test.pdf"), .docx: try Fixtures.bytes("docx/mammoth__simple-list.docx"),
        .pptx: try Fixtures.bytes("pptx/python-pptx__tbl-cell.pptx"),
    ]
    #expect(Set(samples.keys) == Set(registry.matrix.readable))
    var pairs = 0
    for (from, bytes) in samples {
        for to in registry.targets(from: from) {
            let context = ConversionContext()
            _ = try registry.convert(bytes, from: from, to: to, context: context)
            let declared = Set(registry.options.forPair(from: from, to: to).map(\.name))
            #expect(context.options.read.isSubset(of: declared), "\(from.id) → \(to.id) read \(context.options.read.subtracting(declared).sorted()), undeclared")
            pairs += 1
        }
    }
    #expect(pairs >= 60)
}
