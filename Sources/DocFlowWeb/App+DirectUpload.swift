import DocFlowCore
import DocFlowCrypto
import DocFlowFormats
import DocFlowStore
import Foundation

/// Direct upload (issue 12): the client asks for a slot, sends the file straight to storage, then
/// asks for jobs made from it; fcgi-app never reads the file's bytes (at most its first 64 KB, to
/// sniff them). On S3 the slot is a POST policy for exactly one key and size, proxied by nginx on
/// this origin; on the local backend nginx itself writes the PUT body (its DAV module) to
/// `incoming/{upload id}`, which fcgi-app checks and renames into storage when jobs are asked for.
extension App.Worker {
    /// Routes nginx sets for its internal upload calls (`DOCFLOW_ROUTE`, never a client header).
    static let authorizeRoute = "upload-authorize"

    /// `POST /api/uploads` with `{filename, size, content_type?, sha256?}`: reserves `size` bytes
    /// of the client's quota and answers the form to send the file with.
    func createUpload(_ req: Request) throws -> Response {
        let config = app.config
        let obj = try Self.jsonObject(req, hint: "{\"filename\": …, \"size\": …, \"content_type\"?: …, \"sha256\"?: …}")
        guard let raw = obj["filename"] as? String else { throw APIError(400, "missing_filename", "Say the file's name with `filename`.") }
        let name = Self.baseName(raw)
        guard !name.isEmpty, name.utf8.count <= 255 else { throw APIError(400, "bad_filename", "The file name must be 1 to 255 bytes.") }
        guard let size = obj["size"] as? Int else {
            throw APIError(400, "bad_size", "`size` must be the file's size in bytes (an integer).")
        }
        guard size > 0 else { throw APIError(400, "empty_file", "The file is empty: `size` must be at least 1 byte.") }
        var contentType = "application/octet-stream"
        if let t = obj["content_type"] {
            guard let t = t as? String, !t.isEmpty, t.utf8.count <= 255, t.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw APIError(400, "bad_content_type", "`content_type` must be printable ASCII of at most 255 characters.")
            }
            contentType = t
        }
        var sha256: String?
        if let s = obj["sha256"] {
            guard let s = (s as? String)?.lowercased(), s.utf8.count == 64, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw APIError(400, "bad_sha256", "`sha256` must be 64 hexadecimal digits.")
            }
            sha256 = s
        }
        // The shape of the request first (400s), then its limits (413) and its format (415).
        guard Int64(size) <= config.maxUploadBytes else {
            throw APIError(413, "too_large", "The upload is larger than the \(config.maxUploadBytes / 1_048_576) MB limit.",
                           extra: ["limit": config.maxUploadBytes])
        }
        guard let from = app.formats.format(forFilename: name), app.formats.isReadable(from) else {
            let known = app.formats.readable.map(\.id).sorted().joined(separator: ", ")
            throw APIError(415, "unsupported_format", "Doc Flow cannot read \(name): supported inputs are \(known).")
        }
        var newCookie: String?
        let client: UUID
        if let c = Identity.clientID(req), try withDB({ try $0.clientIsLive(c) }) {
            client = c
            if let usage = try withDB({ try $0.clientUsage(c) }), usage.used + Int64(size) > usage.limit {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
        } else {
            guard Int64(size) <= config.quotaBytes else { throw overQuota(used: 0, limit: config.quotaBytes) }
            client = UUID()
            try withDB { try $0.clientCreate(client, quota: config.quotaBytes, ttlSeconds: config.clientTTLSeconds) }
            newCookie = ClientID.setCookie(client, maxAge: config.clientTTLSeconds, secure: req.isTLS)
        }
        let id = UUID()
        let key = Storage.inputPath(client: client, job: id, ext: from.id)
        let store = try store()
        let fields = store.signedPOST(key, size: Int64(size), expires: config.uploadSlotSeconds, contentType: contentType)
        // A form for a store that is down would only fail later: the store is asked once (the key
        // is new, so a 404 is the healthy answer), and a store that does not answer makes this a 503.
        if fields != nil { _ = try store.head(key) }
        // The local backend's nginx location is guarded by a token only this answer carries.
        let token = fields == nil ? Self.randomToken() : nil
        let row: UploadRow
        do {
            row = try withDB {
                try $0.uploadCreate(id: id, client: client, filename: name, inputFormat: from.id, inputPath: key, bytes: Int64(size),
                                    contentType: contentType, sha256: sha256, tokenSHA256: token.map(Self.tokenDigest),
                                    ttlSeconds: config.uploadSlotSeconds)
            }
        } catch let e as StoreError where e.isCheckViolation {
            if newCookie != nil { forgetNewClient(client) }
            let usage = try withDB { try $0.clientUsage(client) }
            throw overQuota(used: usage?.used ?? 0, limit: usage?.limit ?? config.quotaBytes)
        }
        let idText = id.uuidString.lowercased()
        let url = token.map { "/store/local/\(idText)?token=\($0)" } ?? "/store/s3/\(idText)"
        let formFields = (fields ?? []).map { "\(JSONText.quoted($0.name)): \(JSONText.quoted($0.value))" }.joined(separator: ", ")
        let body = String(row.json.dropLast()) + ", \"url\": \(JSONText.quoted(url)), \"method\": \"\(fields == nil ? "PUT" : "POST")\", "
            + "\"fields\": {\(formFields)}, \"file_field\": \(fields == nil ? "null" : "\"file\""), \"max_bytes\": \(size), "
            + "\"jobs_url\": \"/api/uploads/\(idText)/jobs\"}"
        var headers = [("Location", "/api/uploads/\(idText)")]
        if let c = newCookie { headers.append(("Set-Cookie", c)) }
        return .json(201, body, headers: headers)
    }

    /// `GET /api/uploads/{id}`.
    func getUpload(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        guard let row = try withDB({ try $0.uploadFind(client: client, id: id) }) else { throw APIError(404, "not_found", "No such upload.") }
        return .json(200, row.json)
    }

    /// `DELETE /api/uploads/{id}`: the file and its reserved bytes go (jobs made from it keep their outputs).
    func deleteUpload(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        guard let row = try withDB({ try $0.uploadDelete(client: client, id: id) }) else { throw APIError(404, "not_found", "No such upload.") }
        unlink(incomingPath(id))
        try? store().delete(row.inputPath)  // one left behind is an orphan the janitor removes
        return .json(200, "{\"upload_id\": \"\(idText)\", \"deleted\": true}")
    }

    /// nginx's `auth_request` before it takes an upload's body: 204 lets it through; 403 with
    /// `X-Docflow-Refusal` (`upload_used`, `upload_expired`, `too_large`, `size_mismatch`) makes
    /// nginx answer the matching JSON error (snippets/direct-upload.conf). The body is not read.
    func authorizeUpload(_ req: Request) -> Response {
        func refuse(_ why: String) -> Response { Response(status: 403, headers: [("X-Docflow-Refusal", why)]) }
        let p = req.path.split(separator: "/").map(String.init)
        let local = app.config.s3Bucket == nil
        guard p.count == 3, p[0] == "store", p[1] == (local ? "local" : "s3"), let id = UUID(uuidString: p[2]), let client = Identity.clientID(req),
              let row = try? withDB({ try $0.uploadFind(client: client, id: id, tokenSHA256: req.query["token"].map(Self.tokenDigest)) })
        else { return refuse("forbidden") }
        if local && !row.tokenMatches { return refuse("forbidden") }
        if row.stored { return refuse("upload_used") }
        if row.expired { return refuse("upload_expired") }
        if local, let declared = req.headers["x-declared-length"].flatMap({ Int64($0) }), declared != row.declaredBytes {
            return refuse(declared > row.declaredBytes ? "too_large" : "size_mismatch")
        }
        // A second body sent to the same slot would replace the first: refused once one is there.
        let received = local ? access(incomingPath(id), F_OK) == 0 : ((try? store().head(row.inputPath)) ?? nil) != nil
        return received ? refuse("upload_used") : Response(status: 204)
    }

    /// `POST /api/uploads/{id}/jobs` with `{to, options?, priority?}`: the stored object is checked
    /// once (size equal to the declared one, content sniffed from its first 64 KB; a mismatch
    /// releases the upload), then a job is queued as a multipart upload would be. An upload may
    /// be converted to several targets; the SHA-256 a client declared is checked by the runner.
    func createJobFromUpload(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        let obj = try Self.jsonObject(req, hint: "{\"to\": …, \"options\"?: {…}, \"priority\"?: n, \"callback_url\"?: …}")
        guard let row = try withDB({ try $0.uploadFind(client: client, id: id) }) else { throw APIError(404, "not_found", "No such upload.") }
        var fields: [String: String] = ["from": row.inputFormat]
        if let to = obj["to"] as? String { fields["to"] = to }
        if let p = obj["priority"] { fields["priority"] = (p as? Int).map(String.init) ?? "invalid" }
        if let o = obj["options"] {
            guard JSONSerialization.isValidJSONObject(o), let data = try? JSONSerialization.data(withJSONObject: o) else {
                throw APIError(400, "bad_options", "options must be a JSON object of at most 4 KB.")
            }
            fields["options"] = String(decoding: data, as: UTF8.self)
        }
        if let c = obj["callback_url"] { fields["callback_url"] = (c as? String) ?? "" }
        let (_, from, to, priority, options) = try validate(filename: row.filename, fields: fields)
        let callback = try callbackURL(fields["callback_url"])
        if !row.stored {
            if row.expired { throw APIError(410, "upload_expired", "This upload slot has expired before its file arrived; ask for a new one.") }
            let (size, head) = try receivedFile(row)
            guard size == row.declaredBytes else {
                try releaseUpload(client: client, row)
                throw APIError(422, "size_mismatch", "The stored file has \(size) bytes; the upload was declared with \(row.declaredBytes). The upload was removed.")
            }
            let mime = sniffer.mimeType(of: head)
            guard from.accepts(sniffed: mime) else {
                try releaseUpload(client: client, row)
                throw APIError(415, "content_mismatch", from.refusal(sniffed: mime) + " The upload was removed.")
            }
            // One request takes the slot; on the local backend it moves the file into storage.
            if try withDB({ try $0.uploadMarkStored(client: client, id: id) }), app.config.s3Bucket == nil {
                try store().adopt(incomingPath(id), as: row.inputPath)
            }
        }
        let jobID = UUID()
        var job = NewJob(id: jobID, clientID: client, inputFilename: row.filename, inputFormat: from.id, inputPath: row.inputPath,
                         inputBytes: row.declaredBytes, inputSHA256: row.sha256, outputFormat: to.id, optionsJSON: options,
                         priority: priority, maxAttempts: app.config.maxAttempts, idempotencyKey: nil, uploadID: id)
        job.callbackURL = callback
        let body = try withCallbackSecret(client, callback, try insertJob(job))
        return .json(201, body, headers: [("Location", "/api/jobs/\(jobID.uuidString.lowercased())")])
    }

    func incomingPath(_ id: UUID) -> String { Storage.incomingPath(app.config, upload: id) }

    /// The size and first 64 KB of what a slot received (nginx's file, or the object on S3);
    /// 409 when nothing has arrived yet.
    func receivedFile(_ row: UploadRow) throws -> (Int64, [UInt8]) {
        let incomplete = APIError(409, "upload_incomplete", "The file has not arrived yet: send it to the upload's url first.")
        if app.config.s3Bucket != nil {
            let store = try store()
            guard let object = try store.head(row.inputPath) else { throw incomplete }
            return (object.size, object.size == 0 ? [] : try store.bytes(row.inputPath, range: 0...min(65535, object.size - 1)))
        }
        let fd = open(incomingPath(row.id), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw incomplete }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw incomplete }
        var head = [UInt8](repeating: 0, count: 65536)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return (Int64(st.st_size), Array(head.prefix(max(0, n))))
    }

    /// Removes a refused upload: its file or object, then its row (its reserved bytes are freed).
    func releaseUpload(client: UUID, _ row: UploadRow) throws {
        unlink(incomingPath(row.id))
        try? store().delete(row.inputPath)
        _ = try withDB { try $0.uploadDelete(client: client, id: row.id) }
    }

    static func jsonObject(_ req: Request, hint: String) throws -> [String: Any] {
        let body = try req.readBody(limit: 8192)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APIError(400, "bad_request", "Send a JSON object: \(hint).")
        }
        return obj
    }

    /// 32 random bytes as hex (the system's CSPRNG).
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return Digest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    static func tokenDigest(_ token: String) -> String { Digest.hex(Digest.sha256(Array(token.utf8))) }
}
