import Foundation
import Logging

/// One JSON object per line on standard error (production) or plain text (`DOCFLOW_LOG_FORMAT=text`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let json: Bool

    public init(label: String, json: Bool) {
        self.label = label
        self.json = json
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var all = metadata
        event.metadata?.forEach { all[$0.key] = $0.value }
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt,
                                               formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        var text: String
        if json {
            text = "{\"time\":\"\(time)\",\"level\":\"\(level)\",\"logger\":\(quote(label)),\"message\":\(quote(message.description))"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { text += ",\(quote(k)):\(quote(v.description))" }
            text += "}\n"
        } else {
            text = "\(time) \(level) \(label): \(message)"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { text += " \(k)=\(v)" }
            text += "\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// Sets swift-log up once per process according to the config.
    public static func bootstrap(_ config: Config) {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, json: config.logFormat != "text") }
    }
}
