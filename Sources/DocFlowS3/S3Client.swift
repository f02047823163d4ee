import DocFlowHTTP
import Foundation

/// An S3-compatible bucket (AWS, SeaweedFS, MinIO…), path-style (`endpoint/bucket/key`): put a
/// file or bytes, get (whole, a range, or streamed), head, delete, list and delete by prefix, and
/// presigned GET URLs and POST forms. Every request is signed with SigV4 (`UNSIGNED-PAYLOAD`: the
/// body is not hashed twice). One client per thread (it keeps its connection alive).
public final class S3Client {
    public let endpoint: String
    public let bucket: String
    public let signer: SigV4
    private let http = CurlHandle()
    private let dates = S3Dates()
    private let host: String

    /// `endpoint` as `http(s)://host[:port]`.
    public init(endpoint: String, bucket: String, signer: SigV4) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.signer = signer
        host = URL(string: endpoint).map { u in u.host.map { h in h + (u.port.map { ":\($0)" } ?? "") } ?? "" } ?? ""
    }

    /// What `head` and `list` say of an object.
    public struct ObjectInfo: Equatable, Sendable {
        public let key: String
        public let size: Int64
        public let etag: String
        public var modified: Date? = nil
    }

    /// Objects larger than this are sent as a multipart upload, in parts of this size.
    public var partSize: Int64 = 8 << 20

    private func path(_ key: String?) -> String { "/\(bucket)" + (key.map { "/\($0)" } ?? "") }

    private func url(_ path: String, _ query: [(name: String, value: String)]) -> String {
        endpoint + SigV4.uriEncode(path, keepSlash: true) + (query.isEmpty ? "" : "?" + SigV4.queryString(query))
    }

    /// A signed request (header form).
    private func send(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                      headers extra: [(name: String, value: String)] = [], upload: [UInt8]? = nil, uploadFD: Int32 = -1,
                      uploadLength: Int64 = 0, sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> CurlHandle.Response {
        var headers = [("host", host)] + extra
        if upload != nil || uploadFD >= 0 { headers.append(("content-length", String(upload.map { Int64($0.count) } ?? uploadLength))) }
        let request = SigV4.Request(method: method, path: path(key), query: query, headers: headers, payloadHash: SigV4.unsignedPayload)
        let signed = signer.signHeaders(request, date: Date(), normalizePath: false, signBody: true)
        let all = (extra + signed.items).filter { $0.name.lowercased() != "host" }
        let response: CurlHandle.Response
        do {
            response = try http.perform(method: method, url: url(path(key), query), headers: all, upload: upload,
                                        uploadFD: uploadFD, uploadLength: uploadLength, sink: sink)
        } catch let e as CurlError {
            throw S3Error(status: 0, code: e.code, message: "The object store could not be reached.")
        }
        guard (200..<300).contains(response.status) else { throw Self.error(response) }
        return response
    }

    /// The store's error document (`<Code>`, `<Message>`) as an `S3Error`.
    static func error(_ r: CurlHandle.Response) -> S3Error {
        let text = String(decoding: r.body.prefix(4096), as: UTF8.self)
        let code = XMLText.first("Code", in: text) ?? (r.status == 404 ? "NoSuchKey" : "HTTP\(r.status)")
        return S3Error(status: r.status, code: code, message: XMLText.first("Message", in: text) ?? "The object store refused the request.")
    }

    // MARK: objects

    public func put(_ key: String, bytes: [UInt8], contentType: String = "application/octet-stream") throws {
        _ = try send("PUT", key: key, headers: [("content-type", contentType)], upload: bytes)
    }

    /// Streams an open file (its `length` bytes from the current offset) into `key`: one PUT, or
    /// past `partSize` a multipart upload (parts of `partSize` sent one after the other; aborted
    /// on any failure, so no part is left behind and the key is written whole or not at all).
    public func put(_ key: String, fd: Int32, length: Int64, contentType: String = "application/octet-stream") throws {
        if length <= partSize {
            _ = try send("PUT", key: key, headers: [("content-type", contentType)], uploadFD: fd, uploadLength: length)
            return
        }
        let created = try send("POST", key: key, query: [("uploads", "")], headers: [("content-type", contentType)], upload: [])
        guard let uploadID = XMLText.first("UploadId", in: String(decoding: created.body, as: UTF8.self)) else {
            throw S3Error(status: created.status, code: "NoUploadId", message: "The object store did not start a multipart upload.")
        }
        do {
            var etags: [String] = []
            var left = length
            while left > 0 {
                let n = min(partSize, left)
                let r = try send("PUT", key: key, query: [("partNumber", String(etags.count + 1)), ("uploadId", uploadID)],
                                 uploadFD: fd, uploadLength: n)
                etags.append(r.headers["etag"] ?? "")
                left -= n
            }
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
            let body = Array(("<CompleteMultipartUpload>" + parts.joined() + "</CompleteMultipartUpload>").utf8)
            let done = try send("POST", key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")], upload: body)
            // S3 may answer 200 with an error document once the parts are being joined.
            let text = String(decoding: done.body.prefix(4096), as: UTF8.self)
            if text.contains("<Error>") { throw Self.error(CurlHandle.Response(status: 500, headers: [:], body: done.body)) }
        } catch {
            _ = try? send("DELETE", key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    /// The object's bytes, or a range of them (`bytes=first-last`, inclusive).
    public func get(_ key: String, range: ClosedRange<Int64>? = nil) throws -> [UInt8] {
        try send("GET", key: key, headers: range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []).body
    }

    /// The object streamed to `sink` as it arrives.
    public func get(_ key: String, to sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        _ = try send("GET", key: key, sink: sink)
    }

    /// Size and ETag, or nil when there is no such object.
    public func head(_ key: String) throws -> ObjectInfo? {
        do {
            let r = try send("HEAD", key: key)
            return ObjectInfo(key: key, size: Int64(r.headers["content-length"] ?? "") ?? 0,
                              etag: (r.headers["etag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
                              modified: r.headers["last-modified"].flatMap(dates.http))
        } catch let e as S3Error where e.status == 404 {
            return nil
        }
    }

    /// Deletes an object; one that is not there is fine (S3 answers 204 either way).
    public func delete(_ key: String) throws {
        do { _ = try send("DELETE", key: key) } catch let e as S3Error where e.status == 404 {}
    }

    /// Every object under `prefix` (ListObjectsV2, page by page).
    public func list(prefix: String) throws -> [ObjectInfo] {
        var out: [ObjectInfo] = []
        var token: String?
        repeat {
            var q: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", "1000")]
            if let token { q.append(("continuation-token", token)) }
            let text = String(decoding: try send("GET", key: nil, query: q).body, as: UTF8.self)
            for item in XMLText.all("Contents", in: text) {
                guard let key = XMLText.first("Key", in: item) else { continue }
                out.append(ObjectInfo(key: key, size: Int64(XMLText.first("Size", in: item) ?? "") ?? 0,
                                      etag: (XMLText.first("ETag", in: item) ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
                                      modified: XMLText.first("LastModified", in: item).flatMap(dates.iso8601)))
            }
            token = XMLText.first("IsTruncated", in: text) == "true" ? XMLText.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return out
    }

    /// Deletes every object under `prefix`; returns how many.
    @discardableResult
    public func deletePrefix(_ prefix: String) throws -> Int {
        let objects = try list(prefix: prefix)
        for o in objects { try delete(o.key) }
        return objects.count
    }

    /// Creates the bucket (setup and tests); one that exists already is fine.
    public func createBucket() throws {
        do { _ = try send("PUT", key: nil, upload: []) } catch let e as S3Error where e.code == "BucketAlreadyOwnedByYou" || e.code == "BucketAlreadyExists" {}
    }

    // MARK: presigned

    /// A GET URL valid for `expires` seconds (optionally naming the download).
    public func presignedGET(_ key: String, expires: Int, contentType: String? = nil, contentDisposition: String? = nil,
                             date: Date = Date()) -> String {
        var query: [(name: String, value: String)] = []
        if let contentDisposition { query.append(("response-content-disposition", contentDisposition)) }
        if let contentType { query.append(("response-content-type", contentType)) }
        let request = SigV4.Request(method: "GET", path: path(key), query: query, headers: [("host", host)], payloadHash: SigV4.unsignedPayload)
        return url(path(key), signer.presign(request, date: date, expires: expires, normalizePath: false).items)
    }

    /// A POST form for exactly `key` and exactly `size` bytes, valid for `expires` seconds: the
    /// URL to post to and the fields to send before the file.
    public func presignedPOST(_ key: String, size: Int64, expires: Int, contentType: String = "application/octet-stream",
                              date: Date = Date()) -> (url: String, fields: [(name: String, value: String)]) {
        let policy = PostPolicy(bucket: bucket, key: key, expiration: date.addingTimeInterval(Double(expires)),
                                conditions: [.contentLengthRange(size, size), .equals("Content-Type", contentType)],
                                fields: [("Content-Type", contentType)])
        return (endpoint + "/" + bucket, policy.formFields(signer: signer, date: date))
    }
}

/// The few elements of S3's XML answers Doc Flow reads (`<Key>`, `<Code>`…), found by name; only
/// the five predefined entities are replaced (no DTD, no external entity: there is nothing to fetch).
enum XMLText {
    static func all(_ tag: String, in text: String) -> [String] {
        var out: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex) {
            out.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func first(_ tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else { return nil }
        return unescape(String(text[open.upperBound..<close.lowerBound]))
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// The two date forms S3 answers with. Formatters are costly to make: one set per client (a
/// client is used by one thread), not one per object of a listing.
final class S3Dates {
    private let iso = ISO8601DateFormatter(), isoWhole = ISO8601DateFormatter(), web = DateFormatter()

    init() {
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        isoWhole.formatOptions = [.withInternetDateTime]
        web.locale = Locale(identifier: "en_US_POSIX")
        web.timeZone = TimeZone(identifier: "GMT")
        web.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    }

    /// `2026-12-03T07:46:34.000Z` (ListObjectsV2), with or without fractional seconds.
    func iso8601(_ s: String) -> Date? { iso.date(from: s) ?? isoWhole.date(from: s) }

    /// `Thu, 03 Dec 2026 07:46:34 GMT` (Last-Modified).
    func http(_ s: String) -> Date? { web.date(from: s) }
}
