/// One option a reader or writer takes: its name, what values it allows, its default and a
/// one-line help. Declared once (`ConverterOptions`); the upload check, `GET /api/formats`,
/// `docflow formats` and the converters all read these declarations.
public struct OptionSpec: Sendable, Hashable {
    /// What values an option allows.
    public enum Kind: Sendable, Hashable {
        /// `true` or `false` (JSON booleans only).
        case boolean
        /// A whole number in the range (a JSON integer, or a string of digits).
        case integer(ClosedRange<Int>)
        /// One of the words (case does not matter; the value is given to the converter in lower case).
        case choice([String])
        /// One ASCII character other than the excluded ones, or one of the names for one.
        case character(names: [String: String], excluded: String)
        /// Text of 1 to `maxLength` characters without any of `forbidden`, not starting or ending
        /// with any of `forbiddenAtEnds`.
        case text(maxLength: Int, forbidden: String, forbiddenAtEnds: String)
        /// A name (text of 1 to 255 characters) or a position counting from 1 (given as text).
        case nameOrPosition
    }

    public let name: String
    public let kind: Kind
    /// The default, as a user reads it (`"snappy"`, `"detected"`, `"false"`).
    public let defaultValue: String
    public let help: String

    public init(_ name: String, _ kind: Kind, default defaultValue: String, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// What the option allows, as a sentence fragment (`true or false`, `a whole number from 1 to 10`).
    public var allowed: String {
        switch kind {
        case .boolean: return "true or false"
        case .integer(let r): return "a whole number from \(r.lowerBound) to \(r.upperBound)"
        case .choice(let words): return Self.list(words.map { "\"\($0)\"" })
        case .character(let names, let excluded):
            let shown = excluded.map { $0 == "\n" ? "newline" : $0 == "\r" ? "carriage return" : "\($0)" }
            return "one ASCII character (not \(shown.joined(separator: ", "))) or " + Self.list(names.keys.sorted().map { "\"\($0)\"" })
        case .text(let max, let forbidden, let ends):
            return "text of 1 to \(max) characters without \(forbidden.map(String.init).joined(separator: " "))"
                + (ends.isEmpty ? "" : " and without \(ends) at either end")
        case .nameOrPosition: return "a name, or a position counting from 1"
        }
    }

    /// `value` checked and normalised, or an `OptionError` naming this option and what it allows.
    public func check(_ value: JSONValue) throws(OptionError) -> OptionValue {
        func bad() -> OptionError {
            OptionError(key: name, "Option \(name) must be \(allowed), not \(value.shown).")
        }
        switch kind {
        case .boolean:
            guard case .bool(let b) = value else { throw bad() }
            return .bool(b)
        case .integer(let range):
            let n: Int?
            switch value {
            case .integer(let i): n = i
            case .string(let s): n = Int(s)
            default: n = nil
            }
            guard let n, range.contains(n) else { throw bad() }
            return .int(n)
        case .choice(let words):
            guard case .string(let s) = value, words.contains(s.lowercased()) else { throw bad() }
            return .text(s.lowercased())
        case .character(let names, let excluded):
            guard case .string(let s) = value else { throw bad() }
            let c = names[s.lowercased()] ?? s
            guard c.utf8.count == 1, let b = c.utf8.first, b < 0x80, !excluded.utf8.contains(b) else { throw bad() }
            return .text(c)
        case .text(let max, let forbidden, let ends):
            guard case .string(let s) = value, !s.isEmpty, s.count <= max,
                  !s.contains(where: { forbidden.contains($0) }),
                  !(s.first.map { ends.contains($0) } ?? false), !(s.last.map { ends.contains($0) } ?? false) else { throw bad() }
            return .text(s)
        case .nameOrPosition:
            switch value {
            case .string(let s) where !s.isEmpty && s.count <= 255: return .text(s)
            case .integer(let i) where i >= 1: return .text(String(i))
            default: throw bad()
            }
        }
    }

    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }
}

/// An option's value once checked: what a converter receives.
public enum OptionValue: Sendable, Equatable {
    case bool(Bool)
    case int(Int)
    case text(String)
}

/// An option that is not taken by the conversion asked for, or whose value is not allowed.
/// `message` names the key and what is allowed; it is safe to show a client (`400 bad_options`).
public struct OptionError: Error, Equatable, CustomStringConvertible, Sendable {
    public var key: String?
    public var message: String

    public init(key: String?, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { message }
}
