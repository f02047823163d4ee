import CCurl
import Foundation

/// A request that got no answer: libcurl's error text (the URL is never part of it).
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public let code: String
    /// The time limit ran out (connect or whole transfer).
    public let timedOut: Bool
    public var description: String { "CurlError(\(code))" }
}

/// One HTTP exchange over libcurl's easy interface (Debian's libcurl: a well-kept client with
/// connection reuse, keep-alive and large-file streaming). A handle is reused between requests
/// (its connections kept alive); not thread-safe: one per thread. Used by the S3 client and the
/// webhook sender.
public final class CurlHandle {
    private let handle: UnsafeMutableRawPointer

    public init() {
        _ = Self.globalInit
        handle = curl_easy_init()!
    }

    deinit { curl_easy_cleanup(handle) }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// What the response carried.
    public struct Response {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public init(status: Int, headers: [String: String], body: [UInt8]) { self.status = status; self.headers = headers; self.body = body }
    }

    /// Context the C callbacks reach through their user pointer.
    private final class Transfer {
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var sink: ((UnsafeRawBufferPointer) throws -> Void)?
        var sinkError: Error?
        var upload: UnsafeRawBufferPointer?
        var uploadOffset = 0
        var uploadFD: Int32 = -1
        /// Bytes still to send from `uploadFD` (a part of a file stops at its end).
        var uploadLeft: Int64 = 0
        var maxBody = Int.max
    }

    /// Sends `method` to `url` with `headers`; the body from `upload` (bytes) or `uploadFD` (a
    /// file, `uploadLength` bytes, streamed); the response body to `sink` when given (only for a
    /// 2xx answer), else collected. `resolve` pins host names to addresses (`host:port:address`,
    /// CURLOPT_RESOLVE): the address a caller checked is the one connected to. At most
    /// `maxResponseBytes` of a collected body are kept. Throws `CurlError` when there is no answer.
    public func perform(method: String, url: String, headers: [(name: String, value: String)], upload: [UInt8]? = nil,
                        uploadFD: Int32 = -1, uploadLength: Int64 = 0, sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                        timeoutMilliseconds: Int = 300_000, connectTimeoutMilliseconds: Int = 10_000,
                        resolve: [String] = [], maxResponseBytes: Int = Int.max) throws -> Response {
        curl_easy_reset(handle)
        let t = Transfer()
        t.sink = sink
        t.uploadFD = uploadFD
        t.uploadLeft = uploadLength
        t.maxBody = maxResponseBytes
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")  // no 100-continue round trip
        defer { curl_slist_free_all(list) }
        var pins: UnsafeMutablePointer<curl_slist>? = nil
        for r in resolve { pins = curl_slist_append(pins, r) }
        defer { curl_slist_free_all(pins) }
        if pins != nil { _ = ccurl_setopt_slist(handle, CURLOPT_RESOLVE, pins) }
        let me = Unmanaged.passUnretained(t).toOpaque()
        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        _ = ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, n, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * n), as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                t.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return size * n
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        _ = ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, n, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * n)
            if let sink = t.sink, t.sinkError == nil {
                do { try sink(bytes) } catch { t.sinkError = error; return 0 }  // 0 aborts the transfer
            } else if t.body.count < t.maxBody {
                t.body.append(contentsOf: bytes.prefix(t.maxBody - t.body.count))
            }
            return size * n
        }
        switch method {
        case "GET": break
        case "HEAD": _ = ccurl_setopt_long(handle, CURLOPT_NOBODY, 1)
        case "PUT", "POST":
            _ = ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            if method == "POST" { _ = ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, "POST") }
            _ = ccurl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, upload.map { curl_off_t($0.count) } ?? curl_off_t(uploadLength))
            _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, me)
            _ = ccurl_setopt_callback(handle, CURLOPT_READFUNCTION) { data, size, n, user in
                let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                if t.uploadFD >= 0 {
                    let want = Int(min(Int64(size * n), t.uploadLeft))
                    if want == 0 { return 0 }
                    var r: Int
                    repeat { r = read(t.uploadFD, data, want) } while r < 0 && errno == EINTR
                    if r <= 0 { return Int(CURL_READFUNC_ABORT) }  // the file is shorter than said: never send a short object
                    t.uploadLeft -= Int64(r)
                    return r
                }
                guard let src = t.upload else { return 0 }
                let k = min(size * n, src.count - t.uploadOffset)
                if k > 0 { UnsafeMutableRawPointer(data!).copyMemory(from: src.baseAddress! + t.uploadOffset, byteCount: k) }
                t.uploadOffset += k
                return k
            }
        default: _ = ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        let code: CURLcode = (upload ?? []).withUnsafeBytes { bytes in
            t.upload = bytes
            defer { t.upload = nil }
            return curl_easy_perform(handle)
        }
        if let e = t.sinkError { throw e }
        guard code == CURLE_OK else {
            throw CurlError(code: String(cString: curl_easy_strerror(code)), timedOut: code == CURLE_OPERATION_TIMEDOUT)
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, headers: t.headers, body: t.body)
    }
}
