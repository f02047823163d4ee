import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation

extension App.Worker {
    /// The client of a request that reads or changes jobs; without one, every job is unknown.
    func requireClient(_ req: Request) throws -> UUID {
        guard let c = Identity.clientID(req) else { throw APIError.notFound }
        return c
    }

    /// The timestamp half of a cursor, as `jobList` writes it (`2026-12-02T15:04:05.123456Z`).
    /// (A formatter per call: it is not documented as thread-safe, and cursors are rare.)
    static func cursorTime() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }

    /// `GET /api/jobs?status=&limit=&order=asc|desc&cursor=`.
    func listJobs(_ req: Request) throws -> Response {
        var status: JobStatus?
        if let s = req.query["status"] {
            guard let known = JobStatus(rawValue: s.uppercased()) else {
                throw APIError(400, "bad_status", "status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            status = known
        }
        var limit = 20
        if let l = req.query["limit"] {
            guard let n = Int(l), (1...100).contains(n) else { throw APIError(400, "bad_limit", "limit must be from 1 to 100.") }
            limit = n
        }
        let order = req.query["order"]?.lowercased() ?? "desc"
        guard order == "asc" || order == "desc" else { throw APIError(400, "bad_order", "order must be asc or desc.") }
        var cursor: (String, UUID)?
        if let c = req.query["cursor"], !c.isEmpty {
            let parts = c.split(separator: "_", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = UUID(uuidString: parts[1]), parts[0].count <= 40,
                  parts[0].allSatisfy({ $0.isASCII && ($0.isNumber || "-:.TZ".contains($0)) }),
                  Self.cursorTime().date(from: parts[0]) != nil else {
                throw APIError(400, "bad_cursor", "The cursor is not one this API returned.")
            }
            cursor = (parts[0], id)
        }
        // Checked first: a bad parameter is 400 with or without a client.
        guard let client = Identity.clientID(req) else { return .json(200, "{\"jobs\": [], \"next_cursor\": null}") }
        let page = try withDB { try $0.jobList(client: client, status: status, limit: limit, ascending: order == "asc", after: cursor) }
        let next = page.next.map { JSONText.quoted($0) } ?? "null"
        return .json(200, "{\"jobs\": [" + page.jobs.joined(separator: ", ") + "], \"next_cursor\": \(next)}")
    }

    func getJob(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        guard let body = try withDB({ try $0.jobFindJSON(client: client, id: id) }) else { throw APIError.notFound }
        return .json(200, body)
    }

    /// Deletes a job in any state: a pending job is canceled, a running one is abandoned (its
    /// runner's fenced finish then discards the output), files and quota are freed.
    func deleteJob(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        guard let files = try withDB({ try $0.jobDelete(client: client, id: id) }) else { throw APIError.notFound }
        // The row is gone: files that cannot be removed now are orphans the janitor removes.
        // A direct upload's input is the upload's (other jobs may use it): it goes with the upload.
        for key in [files.uploadID == nil ? files.inputPath : nil, files.outputPath].compactMap({ $0 }) where !key.isEmpty {
            try? store().delete(key)
        }
        return .json(200, "{\"id\": \"\(id.uuidString.lowercased())\", \"deleted\": true, \"previous_status\": \"\(files.status.rawValue)\"}")
    }

    /// `PATCH /api/jobs/{id}` with `{"priority": n}`, while the job is pending.
    func patchJob(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        let body = try req.readBody(limit: 4096)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let p = obj["priority"] as? Int, (1...10).contains(p), obj.count == 1 else {
            throw APIError(400, "bad_request", "Send {\"priority\": n} with n from 1 to 10.")
        }
        if let job = try withDB({ try $0.jobUpdatePriority(client: client, id: id, priority: p) }) { return .json(200, job) }
        guard try withDB({ try $0.jobFindJSON(client: client, id: id) }) != nil else { throw APIError.notFound }
        throw APIError(409, "not_pending", "The priority can only change while the job is pending.")
    }

    /// `POST /api/jobs/{id}/retry`, optionally with `{"options": {…}, "priority": n}`: new options
    /// (checked against the job's pair, as at upload; they replace the old ones) or priority.
    func retryJob(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        var options: String?, priority: Int?
        let body = try req.readBody(limit: 8192)
        if !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw APIError(400, "bad_request", "Send nothing, or a JSON object with `options` and/or `priority`.")
            }
            if let unknown = obj.keys.sorted().first(where: { $0 != "options" && $0 != "priority" }) {
                throw APIError(400, "bad_request", "Unknown field `\(unknown)`: a retry takes `options` and `priority`.")
            }
            if let p = obj["priority"], !(p is NSNull) {
                guard let n = p as? Int, (1...10).contains(n) else {
                    throw APIError(400, "bad_priority", "priority must be an integer from 1 to 10.")
                }
                priority = n
            }
            if let o = obj["options"], !(o is NSNull) {
                guard let dict = o as? [String: Any], Self.storable(dict),
                      let data = try? JSONSerialization.data(withJSONObject: dict), let text = String(data: data, encoding: .utf8) else {
                    throw APIError(400, "bad_options", "options must be a JSON object.")
                }
                guard let pair = try withDB({ try $0.jobPair(client: client, id: id) }) else { throw APIError.notFound }
                guard let from = app.formats.format(named: pair.input), let to = app.formats.format(named: pair.output) else {
                    throw APIError(409, "not_failed", "This job's formats are no longer offered.")
                }
                try checkOptions(text, from: from, to: to)
                options = text
            }
        }
        if let job = try withDB({ try $0.jobRetry(client: client, id: id, optionsJSON: options, priority: priority) }) {
            return .json(200, job)
        }
        guard try withDB({ try $0.jobFindJSON(client: client, id: id) }) != nil else { throw APIError.notFound }
        throw APIError(409, "not_failed", "Only a failed job can be retried.")
    }

    /// `POST /api/jobs/{id}/cancel`: a pending or processing job stops and stays as CANCELED; its
    /// input is removed and its bytes are given back at once.
    func cancelJob(_ req: Request, _ idText: String) throws -> Response {
        let client = try requireClient(req), id = try Identity.jobID(idText)
        if let (json, input) = try withDB({ try $0.jobCancel(client: client, id: id) }) {
            // After the commit: a file that cannot be removed now is an orphan the janitor removes.
            if let input { try? store().delete(input) }
            return .json(200, json)
        }
        guard try withDB({ try $0.jobFindJSON(client: client, id: id) }) != nil else { throw APIError.notFound }
        throw APIError(409, "not_cancelable", "Only a pending or converting job can be canceled.")
    }

    /// `GET /api/jobs/{id}/output`: nginx sends the file (X-Accel-Redirect to an internal
    /// location), named after the original file with the new extension.
    func downloadJob(_ req: Request, _ idText: String) throws -> Response {
        try download(client: try requireClient(req), id: try Identity.jobID(idText))
    }

    /// The answer that makes nginx send a done job's output (`downloadJob`, `convertNow`).
    func download(client: UUID, id: UUID) throws -> Response {
        guard let files = try withDB({ try $0.jobFiles(client: client, id: id) }) else { throw APIError.notFound }
        guard files.status == .done, let output = files.outputPath else {
            throw APIError(409, "not_ready", "The job is \(files.status.rawValue.lowercased()); its output is not available.")
        }
        let format = app.formats.format(named: files.outputFormat)
        let name = Self.downloadName(files.inputFilename, ext: format?.extensions.first ?? files.outputFormat)
        let type = format?.mimeType ?? "application/octet-stream", disposition = Self.contentDisposition(name)
        // Local files: nginx's internal /_files/ location (sendfile). S3: nginx's internal /_store/
        // location proxies a GET presigned for a minute (no credentials leave this process; the
        // store answers Range and ETag itself, with this type; the Content-Disposition below is
        // kept by nginx through the redirect, so the store is not asked for a second one).
        var target = "/_files/" + output
        if let signed = try store().signedGET(output, expires: 60, contentType: type, contentDisposition: nil),
           let url = URLComponents(string: signed) {
            target = "/_store" + url.percentEncodedPath + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
        }
        return Response(status: 200, headers: [
            ("X-Accel-Redirect", target),
            ("Content-Type", type),
            ("Content-Disposition", disposition),
            ("Cache-Control", "private, no-store"),
        ])
    }

    /// ICU's transliteration of any script to Latin, then of Latin to ASCII.
    static let toASCII = StringTransform(rawValue: "Any-Latin; Latin-ASCII")

    /// `report.final.md` → `report.final.html`.
    static func downloadName(_ input: String, ext: String) -> String {
        let base = input.lastIndex(of: ".").map { String(input[..<$0]) } ?? input
        return (base.isEmpty ? "output" : base) + "." + ext
    }

    /// RFC 6266: an ASCII fallback plus the UTF-8 name in `filename*`. The fallback (what
    /// `curl -OJ` and other clients without `filename*` use) is transliterated by ICU
    /// (`Any-Latin; Latin-ASCII`: "Résumé — 报告" → "Resume - bao gao"); what has no Latin form is `_`.
    static func contentDisposition(_ name: String) -> String {
        let latin = name.applyingTransform(Self.toASCII, reverse: false) ?? name
        let ascii = String(latin.unicodeScalars.map { s -> Character in
            s.isASCII && s.value >= 0x20 && s != "\"" && s != "\\" && s != "%" ? Character(s) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
