import Foundation

/// A streaming multipart/form-data parser (RFC 7578). Small fields are collected in memory; the
/// `file` part is handed to a sink chunk by chunk, so a 250 MB upload never sits in memory.
struct MultipartParser {
    let boundary: [UInt8]
    let body: BodyReader
    var fields: [String: String] = [:]
    var filename: String?

    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private static let fieldLimit = 65536

    /// The boundary parameter of a `multipart/form-data; boundary=…` content type.
    static func boundary(fromContentType type: String) -> String? {
        guard type.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for param in type.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" {
                let b = kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(b.utf8.count) ? b : nil
            }
        }
        return nil
    }

    init(boundary: String, body: BodyReader) {
        self.boundary = Array(("\r\n--" + boundary).utf8)
        self.body = body
        buffer = [0x0D, 0x0A]  // so the first delimiter matches like the others
    }

    private mutating func fill() -> Bool {
        if eof { return false }
        if start > 0 && start > buffer.count / 2 { buffer.removeFirst(start); start = 0 }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { body.read(into: $0) }
        if n <= 0 { eof = true; return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard buffer.count - from >= needle.count else { return nil }
        // memchr for the first byte, memcmp for the rest (glibc's memmem needs _GNU_SOURCE).
        return buffer.withUnsafeBytes { hay -> Int? in
            needle.withUnsafeBytes { nd -> Int? in
                let base = hay.baseAddress!
                var i = from
                let last = hay.count - nd.count
                while i <= last {
                    guard let hit = memchr(base + i, Int32(nd[0]), last - i + 1) else { return nil }
                    let at = UnsafeRawPointer(hit) - base
                    if memcmp(base + at, nd.baseAddress!, nd.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
        }
    }

    private static func malformed(_ why: String) -> APIError {
        APIError(400, "bad_multipart", "The multipart body is malformed: \(why).")
    }

    /// Parses every part; the `file` part's bytes go to `sink`, which is created on demand.
    mutating func parse(fileSink: (UnsafeRawBufferPointer) throws -> Void) throws {
        // Preamble up to the first delimiter.
        while find(boundary, from: start) == nil { if !fill() { throw Self.malformed("no boundary found") } }
        start = find(boundary, from: start)! + boundary.count
        while true {
            while buffer.count - start < 2 { if !fill() { throw Self.malformed("truncated after a boundary") } }
            if buffer[start] == 0x2D && buffer[start + 1] == 0x2D { return }  // closing delimiter
            // Skip transport padding and CRLF after the delimiter.
            while find([0x0D, 0x0A], from: start) == nil { if !fill() { throw Self.malformed("truncated") } }
            start = find([0x0D, 0x0A], from: start)! + 2
            // Part headers.
            var headerEnd: Int?
            while true {
                if buffer.count - start >= 2, buffer[start] == 0x0D, buffer[start + 1] == 0x0A { headerEnd = start; break }
                if let e = find([0x0D, 0x0A, 0x0D, 0x0A], from: start) { headerEnd = e + 2; break }
                if buffer.count - start > 16384 { throw Self.malformed("part headers too long") }
                if !fill() { throw Self.malformed("truncated part headers") }
            }
            let headerText = String(decoding: buffer[start..<headerEnd!], as: UTF8.self)
            start = headerEnd! + 2
            let (name, partFilename) = Self.disposition(headerText)
            guard let name else { throw Self.malformed("a part has no name") }
            let isFile = name == "file"
            if isFile {
                guard filename == nil else { throw Self.malformed("more than one file part") }
                filename = partFilename ?? ""
            }
            var value: [UInt8] = []
            // Part body up to the next delimiter.
            while true {
                if let d = find(boundary, from: start) {
                    try emit(start..<d, isFile: isFile, value: &value, fileSink: fileSink)
                    start = d + boundary.count
                    break
                }
                let safeEnd = max(start, buffer.count - boundary.count)
                try emit(start..<safeEnd, isFile: isFile, value: &value, fileSink: fileSink)
                start = safeEnd
                if !fill() { throw Self.malformed("missing closing boundary") }
            }
            if !isFile { fields[name] = String(decoding: value, as: UTF8.self) }
        }
    }

    private func emit(_ range: Range<Int>, isFile: Bool, value: inout [UInt8],
                      fileSink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !range.isEmpty else { return }
        if isFile {
            try buffer.withUnsafeBytes { try fileSink(UnsafeRawBufferPointer(rebasing: $0[range])) }
        } else {
            value.append(contentsOf: buffer[range])
            if value.count > Self.fieldLimit { throw Self.malformed("a form field is larger than 64 KB") }
        }
    }

    /// name and filename from a Content-Disposition header (RFC 7578; `filename*` preferred).
    static func disposition(_ headers: String) -> (String?, String?) {
        var name: String?, filename: String?, filenameStar: String?
        for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            for param in splitParams(String(line.dropFirst("content-disposition:".count))) {
                let kv = param.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { continue }
                let key = kv[0].trimmingCharacters(in: .whitespaces).lowercased()
                var v = kv[1].trimmingCharacters(in: .whitespaces)
                if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 {
                    v = String(v.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
                }
                switch key {
                case "name": name = v
                case "filename": filename = v
                case "filename*":
                    if let r = v.range(of: "''") { filenameStar = String(v[r.upperBound...]).removingPercentEncoding }
                default: break
                }
            }
        }
        return (name, filenameStar ?? filename)
    }

    /// Splits `; a="x;y"; b=z` on semicolons outside quotes.
    static func splitParams(_ s: String) -> [String] {
        var out: [String] = [], cur = "", quoted = false, escaped = false
        for c in s {
            if escaped { cur.append(c); escaped = false; continue }
            if c == "\\" && quoted { cur.append(c); escaped = true; continue }
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted { out.append(cur); cur = "" } else { cur.append(c) }
        }
        out.append(cur)
        return out
    }
}
