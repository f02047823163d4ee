import DocFlowCore
/// Properties of a document or table that extraction reports and writers may carry over.
public struct Metadata: Equatable, Sendable {
    /// Document title, if known.
    public var title: String?
    /// Author, if known.
    public var author: String?
    /// Other properties (page count, word count, outline, sheet names, row count…).
    public var properties: [String: MetaValue]

    public init(title: String? = nil, author: String? = nil, properties: [String: MetaValue] = [:]) {
        self.title = title
        self.author = author
        self.properties = properties
    }

    /// Title, author, then the properties by name, as one JSON object.
    public var json: String {
        var fields: [String] = []
        if let t = title { fields.append("\"title\": " + JSONText.quoted(t)) }
        if let a = author { fields.append("\"author\": " + JSONText.quoted(a)) }
        for (k, v) in properties.sorted(by: { $0.key < $1.key }) { fields.append(JSONText.quoted(k) + ": " + v.json) }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

/// A metadata value: the JSON subset metadata needs (no floats, no nulls).
public indirect enum MetaValue: Equatable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case number(Int)
    case list([MetaValue])
    /// Fields in a fixed order.
    case object([(String, MetaValue)])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .number(value) }

    public var json: String {
        switch self {
        case .text(let s): return JSONText.quoted(s)
        case .number(let n): return String(n)
        case .list(let items): return "[" + items.map(\.json).joined(separator: ", ") + "]"
        case .object(let fields):
            return "{" + fields.map { JSONText.quoted($0.0) + ": " + $0.1.json }.joined(separator: ", ") + "}"
        }
    }

    public static func == (a: MetaValue, b: MetaValue) -> Bool { a.json == b.json }
}
