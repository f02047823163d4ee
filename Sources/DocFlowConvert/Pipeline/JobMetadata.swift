import DocFlowModel

/// What a conversion reports about its input, the same for every target: the job's metadata,
/// and the `metadata` of an `extract` result (so the two always agree).
enum JobMetadata {
    /// A table's metadata with its row count, column count and schema (each column's name and type).
    static func table(_ base: Metadata, columns: [Column], rows: Int) -> Metadata {
        var meta = base
        meta.properties["rows"] = .number(rows)
        meta.properties["columns"] = .number(columns.count)
        meta.properties["schema"] = .list(columns.map { .object([("name", .text($0.name)), ("type", .text($0.type.rawValue))]) })
        return meta
    }

    /// A document's metadata (the title comes from the reader: first heading, <title>, first
    /// line) with its word count and outline (the first 200 headings).
    static func document(_ d: Document) -> Metadata {
        var meta = d.metadata
        meta.properties["word_count"] = .number(d.wordCount)
        let outline = d.outline.prefix(200).map { MetaValue.object([("level", .number($0.level)), ("text", .text($0.text))]) }
        if !outline.isEmpty { meta.properties["outline"] = .list(Array(outline)) }
        return meta
    }

    /// `meta` with what the reader and writer reported (page counts, compression…).
    static func merged(_ meta: Metadata, _ context: ConversionContext) -> Metadata {
        var meta = meta
        for (k, v) in context.reported { meta.properties[k] = v }
        return meta
    }
}
