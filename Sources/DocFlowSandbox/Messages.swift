/// What travels over the channel besides descriptors: small tab-separated texts, so neither side
/// parses JSON it did not make (options and metadata ride along as the JSON text they already are).

/// runner → worker: the formats and the job's options (a JSON object's text).
public struct JobRequest: Equatable, Sendable {
    public var from: String
    public var to: String
    public var optionsJSON: String

    public init(from: String, to: String, optionsJSON: String) {
        self.from = from; self.to = to; self.optionsJSON = optionsJSON
    }

    public var encoded: [UInt8] { Array("\(from)\t\(to)\t\(optionsJSON)".utf8) }

    public init?(_ bytes: [UInt8]) {
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        self.init(from: String(parts[0]), to: String(parts[1]), optionsJSON: String(parts[2]))
    }
}

/// worker → runner: how the job ended.
public enum JobResult: Equatable, Sendable {
    /// Written to the output descriptor: its size, warnings (JSON array) and metadata (JSON object).
    case done(bytes: Int64, warningsJSON: String, metadataJSON: String)
    /// Not converted: an error code, whether another attempt could succeed, a message for the user.
    case failed(code: String, retry: Bool, message: String)

    public var frame: (UInt8, [UInt8]) {
        switch self {
        case .done(let bytes, let w, let m):
            return (Channel.Frame.done, Array("\(bytes)\t\(w.utf8.count)\t\(w)\(m)".utf8))
        case .failed(let code, let retry, let message):
            return (Channel.Frame.failed, Array("\(code)\t\(retry ? 1 : 0)\t\(message)".utf8))
        }
    }

    public init?(type: UInt8, payload: [UInt8]) {
        let text = String(decoding: payload, as: UTF8.self)
        let parts = text.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        switch type {
        case Channel.Frame.done:
            guard let bytes = Int64(parts[0]), let wlen = Int(parts[1]), wlen >= 0 else { return nil }
            let rest = Array(parts[2].utf8)
            guard wlen <= rest.count else { return nil }
            self = .done(bytes: bytes, warningsJSON: String(decoding: rest[..<wlen], as: UTF8.self),
                         metadataJSON: String(decoding: rest[wlen...], as: UTF8.self))
        case Channel.Frame.failed:
            self = .failed(code: String(parts[0]), retry: parts[1] == "1", message: String(parts[2]))
        default:
            return nil
        }
    }
}

/// worker → runner: "percent\tstep".
public enum ProgressFrame {
    public static func encode(_ percent: Int, _ step: String) -> [UInt8] { Array("\(percent)\t\(step)".utf8) }

    public static func decode(_ payload: [UInt8]) -> (Int, String)? {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let p = Int(parts[0]) else { return nil }
        return (p, String(parts[1]))
    }
}
