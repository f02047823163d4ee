import DocFlowModel

/// What a reader produces: one of the two hubs.
public enum Payload: Equatable, Sendable {
    case document(Document)
    case table(Table)

    /// The payload as a document; a table becomes a document holding one table block.
    public var asDocument: Document {
        switch self {
        case .document(let d): return d
        case .table(let t):
            let header = t.columns.map { [Inline.text($0.name)] }
            let aligns = t.columns.map { c -> Alignment in
                c.type == .int64 || c.type == .double ? .right : .none
            }
            let rows = t.rows.map { row in row.map { [Inline.text($0.text)] } }
            return Document(metadata: t.metadata, blocks: [.table(header: header, alignments: aligns, rows: rows)])
        }
    }
}
