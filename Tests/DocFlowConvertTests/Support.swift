import DocFlowConvert
import Foundation

/// Fixtures live in Tests/Fixtures, found from this file's path so tests run from any folder.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(path)))
    }

    /// Compares `actual` with the golden file; `DOCFLOW_ACCEPT=1` rewrites it instead.
    static func matchesGolden(_ actual: [UInt8], _ path: String) throws -> Bool {
        let url = root.appendingPathComponent(path)
        if ProcessInfo.processInfo.environment["DOCFLOW_ACCEPT"] == "1" {
            try Data(actual).write(to: url)
            return true
        }
        return try Data(contentsOf: url) == Data(actual)
    }
}

func convert(_ bytes: [UInt8], _ from: Format, _ to: Format, options: [String: Any] = [:]) throws -> ConversionResult {
    try FormatRegistry.standard.convert(bytes, from: from, to: to, context: ConversionContext(options: options))
}

func jsonObject(_ bytes: [UInt8]) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}
