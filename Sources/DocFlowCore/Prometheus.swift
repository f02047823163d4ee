/// A cumulative histogram in Prometheus's sense: counts of observations at or below each bound
/// (`le`), their sum and their count.
public struct Histogram: Sendable {
    public let bounds: [Double]
    /// Observations in each bucket, not cumulative; the last one is above every bound (+Inf).
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        var i = 0
        while i < bounds.count && value > bounds[i] { i += 1 }
        counts[i] += 1
        sum += value
        count += 1
    }

    /// Seconds: 5 ms to 10 minutes.
    public static let seconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
    /// Bytes: 1 KiB to 1 GiB, by fours.
    public static let bytes: [Double] = (0...10).map { 1024 * pow4($0) }
    /// Attempts a job took.
    public static let attempts: [Double] = [1, 2, 3, 5, 10, 20]

    private static func pow4(_ n: Int) -> Double { (0..<n).reduce(1) { r, _ in r * 4 } }
}

/// Labels of one series, in order: `[("pair", "csv>xlsx")]`.
public typealias Labels = [(String, String)]

/// Series keyed by their labels, for one metric family (counters or histograms).
public struct LabeledSeries<Value: Sendable>: Sendable {
    private var keys: [String: Int] = [:]
    public private(set) var series: [(labels: Labels, value: Value)] = []
    let make: @Sendable () -> Value

    public init(_ make: @escaping @Sendable () -> Value) { self.make = make }

    /// The series of these labels, made on first use.
    public mutating func update(_ labels: Labels, _ body: (inout Value) -> Void) {
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{1}")
        let i: Int
        if let k = keys[key] { i = k } else { i = series.count; keys[key] = i; series.append((labels, make())) }
        body(&series[i].value)
    }

    /// Series sorted by their labels (stable output for people and tests).
    public var sorted: [(labels: Labels, value: Value)] {
        series.sorted { a, b in a.labels.map(\.1).joined(separator: "\u{1}") < b.labels.map(\.1).joined(separator: "\u{1}") }
    }
}

/// The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
public struct PromText {
    public private(set) var text = ""
    public init() {}

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    public mutating func sample(_ name: String, _ labels: Labels = [], _ value: Double) {
        text += name + Self.render(labels) + " " + Self.number(value) + "\n"
    }

    /// One family of counters or gauges, HELP and TYPE included.
    public mutating func values(_ name: String, _ type: String, _ help: String, _ series: [(labels: Labels, value: Double)]) {
        family(name, type, help)
        for s in series { sample(name, s.labels, s.value) }
    }

    /// One histogram family: cumulative `_bucket`s with `le`, `_sum` and `_count` per series.
    public mutating func histograms(_ name: String, _ help: String, _ series: [(labels: Labels, value: Histogram)]) {
        family(name, "histogram", help)
        for (labels, h) in series {
            var cumulative: UInt64 = 0
            for (i, bound) in h.bounds.enumerated() {
                cumulative += h.counts[i]
                sample(name + "_bucket", labels + [("le", Self.number(bound))], Double(cumulative))
            }
            sample(name + "_bucket", labels + [("le", "+Inf")], Double(h.count))
            sample(name + "_sum", labels, h.sum)
            sample(name + "_count", labels, Double(h.count))
        }
    }

    static func render(_ labels: Labels) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// Integers without a fraction, everything else as Swift prints a Double (shortest exact).
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
