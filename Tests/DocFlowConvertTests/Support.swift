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
    let reg = FormatRegistry.standard
    return try reg.convert(bytes, from: from, to: to, context: try context(options, for: reg.options.forPair(from: from, to: to)))
}

/// A context whose options are checked as an upload's are: against `specs` (the declarations of
/// the reader and writer under test); a key or value they do not allow throws `OptionError`.
func context(_ options: [String: Any], for specs: [OptionSpec]) throws -> ConversionContext {
    let text = String(decoding: try JSONSerialization.data(withJSONObject: options), as: UTF8.self)
    return ConversionContext(options: try Options(checking: JSONValue.object(fromJSON: text) ?? [:], against: specs))
}

func jsonObject(_ bytes: [UInt8]) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

/// Runs a command-line tool (poppler-utils for PDF checks) and returns its standard output.
func run(_ tool: String, _ args: [String], input: [UInt8]? = nil) throws -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "run", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(tool) \(args) failed (is poppler-utils installed?)"])
    }
    return Array(data)
}

/// A file in a fresh temporary folder holding `bytes`.
func temporaryFile(_ bytes: [UInt8], name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docflow-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}
