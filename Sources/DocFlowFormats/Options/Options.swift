/// The checked options of one conversion, read by the converters through their declarations
/// (`context.options.bool(TableOptions.header)`): a converter never sees a key it did not
/// declare, nor a value its declaration does not allow.
public struct Options: Sendable, Equatable {
    private var values: [String: OptionValue] = [:]

    public init() {}

    /// The options of `raw` checked against `specs`: an unknown key or a value not allowed throws
    /// an `OptionError` naming it. `ignoring` keys pass unchecked and are left out (the test
    /// hooks' `debug_*` options, which the converter process handles itself).
    public init(checking raw: [String: JSONValue], against specs: [OptionSpec],
                ignoring ignored: (String) -> Bool = { _ in false }) throws(OptionError) {
        let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for key in raw.keys.sorted() {
            let value = raw[key]!
            if ignored(key) { continue }
            guard let spec = byName[key] else {
                let known = specs.map(\.name)
                throw OptionError(key: key, known.isEmpty
                    ? "Option \(key) is not taken by this conversion: it takes no options."
                    : "Option \(key) is not taken by this conversion; it takes \(OptionSpec.list(known)).")
            }
            if case .null = value { continue }  // null: the default
            values[key] = try spec.check(value)
        }
    }

    /// Sets an option (tests and internal callers); the value must be one `spec.check` returns.
    public mutating func set(_ spec: OptionSpec, _ value: OptionValue) { values[spec.name] = value }

    public subscript(_ spec: OptionSpec) -> OptionValue? { values[spec.name] }

    public func bool(_ spec: OptionSpec) -> Bool? {
        if case .bool(let b)? = values[spec.name] { return b } else { return nil }
    }

    public func int(_ spec: OptionSpec) -> Int? {
        if case .int(let n)? = values[spec.name] { return n } else { return nil }
    }

    public func text(_ spec: OptionSpec) -> String? {
        if case .text(let s)? = values[spec.name] { return s } else { return nil }
    }

    public var isEmpty: Bool { values.isEmpty }
}
