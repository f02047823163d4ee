import DocFlowModel

/// HTML files: parsed by libxml2 and mapped onto the document model (`HTMLTree`); the title from
/// `<title>`, else the first level-1 heading.
public struct HTMLReader: Reader {
    public let format = Format.html
    public init() {}

    public func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload {
        let (blocks, title) = try HTMLTree.read(bytes, context: context)
        var meta = Metadata()
        meta.title = title ?? blocks.lazy.compactMap { b -> String? in
            if case .heading(1, let inl) = b { return Inline.plainText(inl) } else { return nil }
        }.first
        return .document(Document(metadata: meta, blocks: blocks))
    }
}
