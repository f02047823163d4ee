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
    #expect(registry.options.forPair(from: .csv, to: .pdf).map(\.name) == ["delimiter", "header", "infer_types", "page_size", "font", "renderer"])
    #expect(registry.options.forPair(from: .markdown, to: .text).isEmpty)
}
