/// Properties of a document or table that extraction reports and writers may carry over.
public struct Metadata: Equatable, Sendable {
    /// Document title, if known.
    public var title: String?
    /// Author, if known.
    public var author: String?
    /// Other properties (page count, sheet names, row count…), as display strings.
    public var properties: [String: String]

    public init(title: String? = nil, author: String? = nil, properties: [String: String] = [:]) {
        self.title = title
        self.author = author
        self.properties = properties
    }
}
