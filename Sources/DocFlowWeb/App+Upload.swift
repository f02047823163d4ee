import DocFlowConvert
import DocFlowStore
import Foundation

extension App.Worker {
    /// `POST /api/jobs`: multipart (`file`, `to`, `priority`, `options`) or a raw body with
    /// `?filename=…&to=…`. The upload is streamed to `tmp/` while hashed, checked (format, content
    /// sniffed with libmagic), renamed into `input/{client}/` and inserted as a job whose quota
    /// is charged in the same statement. A refused upload leaves no file and no reserved bytes.
    func createJob(_ req: Request) throws -> Response {
        let config = app.config
        if let length = req.contentLength, length > config.maxUploadBytes + 1_048_576 {
            throw APIError(413, "too_large", "The upload is larger than the \(config.maxUploadBytes / 1_048_576) MB limit.",
                           extra: ["limit": config.maxUploadBytes])
        }
        let cookieClient = Identity.clientID(req)
        let idempotencyKey = req.headers["idempotency-key"].map { String($0.prefix(255)) }
        var liveClient: UUID?
        if let c = cookieClient, try withDB({ try $0.clientIsLive(c) }) {
            liveClient = c
            if let key = idempotencyKey, let existing = try withDB({ try $0.jobFindByIdempotencyKey(client: c, key: key) }) {
                return .json(200, existing)
            }
            if let length = req.contentLength, let usage = try withDB({ try $0.clientUsage(c) }),
               usage.used + length > usage.limit + 65536 {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
        }

        let jobID = UUID()
        let tmp = Storage.tmpPath(job: jobID, tag: "upload")
        let sink = try UploadSink(path: storage.absolute(tmp), limit: config.maxUploadBytes)
        var fields: [String: String]
        var filename: String
        if let type = req.headers["content-type"], let boundary = MultipartParser.boundary(fromContentType: type) {
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
            try validate(filename: filename, fields: fields)  // before reading a body we would refuse
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { req.body.read(into: $0) }
                if n <= 0 { break }
                try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        let (name, from, to, priority, options) = try validate(filename: filename, fields: fields)
        let sha256 = try sink.finish()
        guard sink.size > 0 else { throw APIError(400, "empty_file", "The file is empty.") }
        let mime = sniffer.mimeType(of: sink.head)
        guard from.accepts(sniffed: mime) else {
            throw APIError(415, "content_mismatch", "The file is named .\(from.extensions[0]) but its content is \(mime).")
        }

        var newCookie: String?
        let client: UUID
        if let c = liveClient {
            client = c
        } else {
            client = UUID()
            try withDB { try $0.clientCreate(client, quota: config.quotaBytes, ttlSeconds: config.clientTTLSeconds) }
            newCookie = Identity.cookie(client, maxAge: config.clientTTLSeconds, secure: req.isTLS)
        }
        let inputPath = Storage.inputPath(client: client, job: jobID, ext: from.id)
        try storage.commit(tmp: tmp, to: inputPath)
        sink.keep()
        let job = NewJob(id: jobID, clientID: client, inputFilename: name, inputFormat: from.id, inputPath: inputPath,
                         inputBytes: sink.size, inputSHA256: sha256, outputFormat: to.id, optionsJSON: options,
                         priority: priority, maxAttempts: config.maxAttempts,
                         idempotencyKey: liveClient == nil ? nil : idempotencyKey)
        do {
            let body = try withDB { try $0.jobInsert(job) }
            var headers = [("Location", "/api/jobs/\(jobID.uuidString.lowercased())")]
            if let c = newCookie { headers.append(("Set-Cookie", c)) }
            return .json(201, body, headers: headers)
        } catch let e as StoreError {
            storage.remove(inputPath)
            if e.sqlState == "23514", let usage = try withDB({ try $0.clientUsage(client) }) {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
            if e.sqlState == "23505", let key = idempotencyKey,
               let existing = try withDB({ try $0.jobFindByIdempotencyKey(client: client, key: key) }) {
                return .json(200, existing)
            }
            throw e
        } catch {
            storage.remove(inputPath)
            throw error
        }
    }

    func overQuota(used: Int64, limit: Int64) -> APIError {
        APIError(413, "quota_exceeded",
                 "This upload would exceed your quota: \(used) of \(limit) bytes are used. Delete some jobs or wait for them to expire.",
                 extra: ["used": used, "limit": limit])
    }

    /// Checks the file name, formats, priority and options of an upload.
    @discardableResult
    func validate(filename raw: String, fields: [String: String])
        throws -> (name: String, from: Format, to: Format, priority: Int, options: String) {
        let name = Self.baseName(raw)
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw APIError(400, "bad_filename", "The file name must be 1 to 255 bytes.")
        }
        guard let from = fields["from"].flatMap({ app.registry.format(named: $0) }) ?? app.registry.format(forFilename: name),
              app.registry.readers[from.id] != nil else {
            let known = app.registry.readers.keys.sorted().joined(separator: ", ")
            throw APIError(415, "unsupported_format", "Doc Flow cannot read \(name): supported inputs are \(known).")
        }
        guard let toName = fields["to"], !toName.isEmpty else {
            throw APIError(400, "missing_target", "Say which format to convert to with `to`.")
        }
        guard let to = app.registry.format(named: toName), app.registry.supports(from: from, to: to) else {
            let targets = app.registry.targets(from: from).map(\.id).joined(separator: ", ")
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
            options = o
        }
        return (name, from, to, priority, options)
    }

    /// The last path component of a client-supplied name, without control characters.
    static func baseName(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(String.UnicodeScalarView(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
            .trimmingCharacters(in: .whitespaces)
    }
}
