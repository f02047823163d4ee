import DocFlowModel
import Foundation

/// Options, progress and warnings of one conversion. Converters are pure: this is all they see
/// besides the input bytes.
public final class ConversionContext: @unchecked Sendable {
    /// The job's options, checked against the converters' declarations (`ConverterOptions`).
    public let options: Options
    private let lock = NSLock()
    private var _warnings: [String] = []
    private var _progress: (Int, String) = (0, "")
    private let onProgress: ((Int, String) -> Void)?

    public init(options: Options = Options(), onProgress: ((Int, String) -> Void)? = nil) {
        self.options = options
        self.onProgress = onProgress
    }

    /// Something the output could not carry over; stored with the job and shown to the user.
    public func warn(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        if _warnings.count < 100, !_warnings.contains(message) { _warnings.append(message) }
    }

    private var _reported: [String: MetaValue] = [:]

    /// A property the writer found out (the page count of a PDF); merged into the job's metadata.
    public func report(_ key: String, _ value: MetaValue) {
        lock.lock(); defer { lock.unlock() }
        _reported[key] = value
    }

    public var reported: [String: MetaValue] {
        lock.lock(); defer { lock.unlock() }
        return _reported
    }

    private var _source: Format?

    /// The input's format, set by the registry before the reader runs: a writer's defaults may
    /// depend on it (plain text → PDF is set in monospace).
    var sourceFormat: Format? {
        get { lock.lock(); defer { lock.unlock() }; return _source }
        set { lock.lock(); _source = newValue; lock.unlock() }
    }

    public var warnings: [String] {
        lock.lock(); defer { lock.unlock() }
        return _warnings
    }

    /// Reports progress (0...100) and the current step; cheap, callers may call it often.
    public func progress(_ percent: Int, _ step: String) {
        let p = max(0, min(100, percent))
        lock.lock()
        _progress = (p, step)
        lock.unlock()
        onProgress?(p, step)
    }

}

/// Turns bytes into a hub model.
public protocol Reader: Sendable {
    var format: Format { get }
    /// The options it takes (`ConverterOptions.standard` declares the same).
    var options: [OptionSpec] { get }
    func read(_ bytes: [UInt8], context: ConversionContext) throws -> Payload
}

/// Turns a hub model into bytes.
public protocol Writer: Sendable {
    var format: Format { get }
    /// The hubs this writer can consume (a document writer also takes tables, embedded as a block).
    var accepts: Set<Hub> { get }
    /// The options it takes (`ConverterOptions.standard` declares the same).
    var options: [OptionSpec] { get }
    func write(_ payload: Payload, context: ConversionContext) throws -> [UInt8]
    /// The output as consecutive parts (their concatenation is `write`'s bytes): large outputs
    /// formatted in parallel are written part by part, never joined into one buffer.
    func writeParts(_ payload: Payload, context: ConversionContext) throws -> [[UInt8]]
}

extension Reader {
    public var options: [OptionSpec] { [] }
}

extension Writer {
    public var options: [OptionSpec] { [] }

    public func writeParts(_ payload: Payload, context: ConversionContext) throws -> [[UInt8]] {
        [try write(payload, context: context)]
    }
}
