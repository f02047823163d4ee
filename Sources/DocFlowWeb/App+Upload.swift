import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation

extension App.Worker {
    /// `POST /api/jobs`: multipart (`file`, `to`, `priority`, `options`) or a raw body with
    /// `?filename=…&to=…`. The upload is streamed to `tmp/` while hashed, checked (format, content
    /// sniffed with libmagic), renamed into `input/{client}/` and inserted as a job whose quota
    /// is charged in the same statement. A refused upload leaves no file and no reserved bytes.
    func createJob(_ req: Request, oneTarget: Bool = false) throws -> Response {
        let config = app.config
        if let length = req.contentLength, length > config.maxUploadBytes + 1_048_576 {
            throw APIError(413, "too_large", "The upload is larger than the \(config.maxUploadBytes / 1_048_576) MB limit.",
                           extra: ["limit": config.maxUploadBytes])
        }
        let cookieClient = Identity.clientID(req)
        let idempotencyKey = req.headers["idempotency-key"]
        if let key = idempotencyKey, !Self.isIdempotencyKey(key) {
            throw APIError(400, "bad_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters.")
        }
        var liveClient: UUID?
        // A key used before: the request is read and compared with the one that used it (same
        // request: its job, 200; another: 422), not charged against the quota again.
        var replay = false
        if let c = cookieClient, try withDB({ try $0.clientIsLive(c) }) {
            liveClient = c
            if let key = idempotencyKey { replay = try withDB { try $0.jobIdempotencyKeyUsed(client: c, key: key) } }
            if !replay, let length = req.contentLength, let usage = try withDB({ try $0.clientUsage(c) }),
               usage.used + length > usage.limit + 65536 {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
        }

        let jobID = UUID()
        let tmp = Storage.tmpPath(job: jobID, tag: App.uploadTag)
        let sink = try UploadSink(path: storage.absolute(tmp), limit: config.maxUploadBytes)
        var fields: [String: String]
        var filename: String
        if let type = req.headers["content-type"], let boundary = MultipartParser.boundary(fromContentType: type) {
            // The query's `filename` and `to` are for raw bodies: with a form they would be ignored.
            guard req.query["to"] == nil, req.query["filename"] == nil else {
                throw APIError(400, "bad_request", "Send `to` (and the file's name) in the form, or a raw body with ?filename=…&to=…, not both.")
            }
            var parser = MultipartParser(boundary: boundary, body: req.body)
            try parser.parse { try sink.write($0) }
            guard let f = parser.filename else { throw APIError(400, "missing_file", "The form has no `file` field.") }
            fields = parser.fields
            filename = f
        } else if req.headers["content-type"]?.lowercased().hasPrefix("multipart/") == true {
            throw APIError(400, "bad_multipart", "The multipart content type has no valid boundary.")
        } else {
            guard let f = req.query["filename"] else {
                throw APIError(400, "missing_filename", "Send multipart/form-data with a `file` field, or a raw body with ?filename=…&to=….")
            }
            fields = req.query
            filename = f
            try validateTargets(filename: filename, fields: fields)  // before reading a body we would refuse
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { req.body.read(into: $0) }
                if n <= 0 { break }
                try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        let (name, from, targets, priority, options) = try validateTargets(filename: filename, fields: fields)
        let to = targets[0]
        if targets.count > 1, oneTarget {
            throw APIError(400, "bad_targets", "A conversion that waits makes one job: name one target (POST /api/jobs takes several).")
        }
        if targets.count > 1, idempotencyKey != nil {
            throw APIError(400, "bad_request", "An Idempotency-Key stands for one job: send one target with it.")
        }
        let callback = try callbackURL(fields["callback_url"])
        let sha256 = try sink.finish()
        guard sink.size > 0 else { throw APIError(400, "empty_file", "The file is empty.") }
        if replay, let c = liveClient, let key = idempotencyKey {
            var probe = NewJob(id: jobID, clientID: c, inputFilename: name, inputFormat: from.id, inputPath: "",
                               inputBytes: sink.size, inputSHA256: sha256, outputFormat: to.id, optionsJSON: options,
                               priority: priority, maxAttempts: config.maxAttempts, idempotencyKey: key)
            probe.callbackURL = callback
            if let response = try idempotentReplay(probe, key: key) { return response }
        }
        let mime = sniffer.mimeType(of: sink.head)
        guard from.accepts(sniffed: mime) else {
            throw APIError(415, "content_mismatch", from.refusal(sniffed: mime))
        }

        var newCookie: String?
        let client: UUID
        if let c = liveClient {
            client = c
        } else {
            client = UUID()
            try withDB { try $0.clientCreate(client, quota: config.quotaBytes, ttlSeconds: config.clientTTLSeconds) }
            newCookie = ClientID.setCookie(client, maxAge: config.clientTTLSeconds, secure: req.isTLS)
        }
        if targets.count > 1 {
            return try createJobs(client: client, newCookie: newCookie, tmp: tmp, sink: sink, name: name, from: from, targets: targets,
                                  priority: priority, options: options, sha256: sha256, callback: callback)
        }
        let inputPath = Storage.inputPath(client: client, job: jobID, ext: from.id)
        try adopt(tmp, sink: sink, as: inputPath, client: client, newClient: newCookie != nil)
        var job = NewJob(id: jobID, clientID: client, inputFilename: name, inputFormat: from.id, inputPath: inputPath,
                         inputBytes: sink.size, inputSHA256: sha256, outputFormat: to.id, optionsJSON: options,
                         priority: priority, maxAttempts: config.maxAttempts,
                         idempotencyKey: liveClient == nil ? nil : idempotencyKey)
        job.callbackURL = callback
        do {
            let body = try withCallbackSecret(client, callback, try insertJob(job))
            var headers = [("Location", "/api/jobs/\(jobID.uuidString.lowercased())")]
            if let c = newCookie { headers.append(("Set-Cookie", c)) }
            return .json(201, body, headers: headers)
        } catch let e as StoreError {
            try? store().delete(inputPath)
            if newCookie != nil { forgetNewClient(client) }
            if e.isCheckViolation, let usage = try withDB({ try $0.clientUsage(client) }) {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
            if e.isUniqueViolation, let key = idempotencyKey, let response = try idempotentReplay(job, key: key) {
                return response  // a request with the same key made its job first
            }
            throw e
        } catch {
            try? store().delete(inputPath)
            if newCookie != nil { forgetNewClient(client) }
            throw error
        }
    }

    /// The answer to a request whose Idempotency-Key made a job before: that job (200) when the
    /// request is the same, 422 `idempotency_conflict` when it is not; nil when no job has the key.
    func idempotentReplay(_ job: NewJob, key: String) throws -> Response? {
        guard let (json, same) = try withDB({ try $0.jobIdempotentReplay(job, key: key) }) else { return nil }
        guard same else {
            throw APIError(422, "idempotency_conflict",
                           "This Idempotency-Key was used for a different request (another file, name, target, options, priority or callback URL). Use a new key for a new request.")
        }
        return .json(200, json)
    }

    /// Moves an upload's part file into the store as `key` (local: a rename; S3: sent, then removed).
    /// A client made for this upload goes when that fails.
    func adopt(_ tmp: String, sink: UploadSink, as key: String, client: UUID, newClient: Bool) throws {
        do {
            let store = try store()
            sink.keep()  // adopt moves (or sends and removes) the file, whatever happens
            try store.adopt(storage.absolute(tmp), as: key)
        } catch {
            if newClient { forgetNewClient(client) }
            throw error
        }
    }

    /// Options (a JSON object's text) against the declarations of this pair's reader and writer:
    /// 400 `bad_options` naming what is wrong.
    func checkOptions(_ json: String, from: Format, to: Format) throws {
        do {
            _ = try ConverterOptions.standard.check(json: json, from: from, to: to, allowDebug: app.config.testHooks)
        } catch {
            throw APIError(400, "bad_options", error.message)
        }
    }

    /// A client made for an upload that then failed: its row and folder go too (nothing of a
    /// refused request is kept). Only while it owns no job, so a racing request loses nothing.
    func forgetNewClient(_ client: UUID) {
        if (try? withDB({ try $0.clientDeleteIfEmpty(client) })) == true, let store = try? store() {
            for prefix in Storage.clientPrefixes(client) { _ = try? store.deletePrefix(prefix) }
        }
    }

    func overQuota(used: Int64, limit: Int64) -> APIError {
        APIError(413, "quota_exceeded",
                 "This upload would exceed your quota: \(used) of \(limit) bytes are used. Delete some jobs or wait for them to expire.",
                 extra: ["used": used, "limit": limit])
    }

    /// `validate` for each target of `to` (`to=pdf,md`: several, at most `maxTargets`, each once).
    @discardableResult
    func validateTargets(filename: String, fields: [String: String])
        throws -> (name: String, from: Format, targets: [Format], priority: Int, options: String) {
        let names = (fields["to"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.count > 1 else {
            let (name, from, to, priority, options) = try validate(filename: filename, fields: fields)
            return (name, from, [to], priority, options)
        }
        guard names.count <= Self.maxTargets, Set(names).count == names.count, !names.contains("") else {
            throw APIError(400, "bad_targets", "to names 2 to \(Self.maxTargets) different formats, separated by commas.")
        }
        var targets: [Format] = []
        var result: (name: String, from: Format, priority: Int, options: String)?
        for target in names {
            var one = fields
            one["to"] = target
            let (name, from, to, priority, options) = try validate(filename: filename, fields: one)
            targets.append(to)
            result = (name, from, priority, options)
        }
        let r = result!
        return (r.name, r.from, targets, r.priority, r.options)
    }

    /// Most targets one upload may name.
    static let maxTargets = 8

    /// Checks the file name, formats, priority and options of an upload.
    @discardableResult
    func validate(filename raw: String, fields: [String: String])
        throws -> (name: String, from: Format, to: Format, priority: Int, options: String) {
        let name = Self.baseName(raw)
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw APIError(400, "bad_filename", "The file name must be 1 to 255 bytes.")
        }
        // An explicit `from` that names no format is refused, not replaced by the name's extension.
        let declared = fields["from"].flatMap { $0.isEmpty ? nil : $0 }
        guard let from = declared.map({ app.formats.format(named: $0) }) ?? app.formats.format(forFilename: name),
              app.formats.isReadable(from) else {
            let known = app.formats.readable.map(\.id).sorted().joined(separator: ", ")
            throw APIError(415, "unsupported_format", "Doc Flow cannot read \(name): supported inputs are \(known).")
        }
        guard let toName = fields["to"], !toName.isEmpty else {
            throw APIError(400, "missing_target", "Say which format to convert to with `to`.")
        }
        guard let to = app.formats.format(named: toName), app.formats.supports(from: from, to: to) else {
            let targets = app.formats.targets(from: from).map(\.id).joined(separator: ", ")
            throw APIError(400, "unsupported_conversion", "\(from.name) converts to: \(targets); not to \(toName).")
        }
        var priority = 5
        if let p = fields["priority"], !p.isEmpty {
            guard let n = Int(p), (1...10).contains(n) else {
                throw APIError(400, "bad_priority", "priority must be an integer from 1 to 10.")
            }
            priority = n
        }
        var options = "{}"
        if let o = fields["options"], !o.isEmpty {
            guard o.utf8.count <= 4096, let obj = try? JSONSerialization.jsonObject(with: Data(o.utf8)), obj is [String: Any] else {
                throw APIError(400, "bad_options", "options must be a JSON object of at most 4 KB.")
            }
            // PostgreSQL's jsonb cannot hold U+0000 (nor a lone surrogate half): refused here, before
            // any client row or file exists, instead of a 500 from the insert.
            guard Self.storable(obj), !Self.hasUnpairedSurrogateEscape(o) else {
                throw APIError(400, "bad_options", "options must not contain NUL characters or unpaired \\u surrogate escapes.")
            }
            // Every key and value against the declarations of this pair's reader and writer.
            try checkOptions(o, from: from, to: to)
            options = o
        }
        return (name, from, to, priority, options)
    }

    /// Idempotency keys: printable ASCII (no spaces or control characters), 1 to 255 characters.
    static func isIdempotencyKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 255 && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Whether every string (keys included) of a parsed JSON value is free of U+0000.
    static func storable(_ value: Any) -> Bool {
        switch value {
        case let s as String: return !s.unicodeScalars.contains("\u{0}")
        case let d as [String: Any]: return d.allSatisfy { storable($0.key) && storable($0.value) }
        case let a as [Any]: return a.allSatisfy(storable)
        default: return true
        }
    }

    /// Whether JSON text holds a `\\uD800`–`\\uDFFF` escape that is not a high half followed by a
    /// low half (JSON parsers differ on these; PostgreSQL refuses them).
    static func hasUnpairedSurrogateEscape(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func unit(at i: Int) -> UInt32? {
            guard i + 5 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"),
                  let v = UInt32(String(decoding: b[(i + 2)...(i + 5)], as: UTF8.self), radix: 16) else { return nil }
            return v
        }
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") {
                if let u = unit(at: i), (0xD800...0xDFFF).contains(u) {
                    guard u <= 0xDBFF, let low = unit(at: i + 6), (0xDC00...0xDFFF).contains(low) else { return true }
                    i += 12
                    continue
                }
                i += 2  // an escape: its second character is never the start of another
                continue
            }
            i += 1
        }
        return false
    }

    /// The last path component of a client-supplied name, without control characters.
    static func baseName(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(String.UnicodeScalarView(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
            .trimmingCharacters(in: .whitespaces)
    }
}
