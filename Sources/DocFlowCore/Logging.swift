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
        let time = Self.timestamp()
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

    private func quote(_ s: String) -> String { JSONText.quoted(s) }

    /// UTC time with milliseconds from gettimeofday + gmtime_r (Foundation's date formatters go
    /// through ICU and cost more than the rest of a log line).
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ n: Int32, _ w: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):"
            + "\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(tv.tv_usec / 1000), 3))Z"
    }

    /// Sets swift-log up once per process according to the config.
    public static func bootstrap(_ config: Config) {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, json: config.logFormat != "text") }
    }
}
