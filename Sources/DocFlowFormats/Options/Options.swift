import Foundation

/// The checked options of one conversion, read by the converters through their declarations
/// (`context.options.bool(TableOptions.header)`): a converter never sees a key it did not
/// declare, nor a value its declaration does not allow.
public struct Options: Sendable, Equatable {
    private var values: [String: OptionValue] = [:]
    /// The names of the options a conversion asked for (shared by copies), so a test can hold each
    /// converter to reading only what it declares.
    private let log = ReadLog()

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

    public subscript(_ spec: OptionSpec) -> OptionValue? {
        log.add(spec.name)
        return values[spec.name]
    }

    public func bool(_ spec: OptionSpec) -> Bool? {
        if case .bool(let b)? = self[spec] { return b } else { return nil }
    }

    public func int(_ spec: OptionSpec) -> Int? {
        if case .int(let n)? = self[spec] { return n } else { return nil }
    }

    public func text(_ spec: OptionSpec) -> String? {
        if case .text(let s)? = self[spec] { return s } else { return nil }
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The options read so far, by name (whether they were set or not).
    public var read: Set<String> { log.names }

    public static func == (a: Options, b: Options) -> Bool { a.values == b.values }
}

/// Option names read, behind a lock (converters read options from several threads).
private final class ReadLog: @unchecked Sendable {
    private let lock = NSLock()
    private var set: Set<String> = []
    func add(_ name: String) { lock.lock(); set.insert(name); lock.unlock() }
    var names: Set<String> { lock.lock(); defer { lock.unlock() }; return set }
}
