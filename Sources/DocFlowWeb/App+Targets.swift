import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation

extension App.Worker {
    /// An upload with several targets (`to=pdf,md`): its file is stored once, as a direct upload's
    /// is (an `uploads` row holds it and charges its bytes once; each job names it in `upload_id`
    /// and charges only its output), and one job is made per target — all in one transaction, so
    /// over quota none is. 201 `{"upload_id": …, "jobs": [job, …]}`, the jobs in the order of `to`.
    func createJobs(client: UUID, newCookie: String?, tmp: String, sink: UploadSink, name: String, from: Format, targets: [Format],
                    priority: Int, options: String, sha256: String, callback: String?) throws -> Response {
        let uploadID = UUID()
        let inputPath = Storage.inputPath(client: client, job: uploadID, ext: from.id)
        try adopt(tmp, sink: sink, as: inputPath, client: client, newClient: newCookie != nil)
        do {
            let jobs: [String] = try withDB { db in
                try db.transaction {
                    _ = try db.uploadCreate(id: uploadID, client: client, filename: name, inputFormat: from.id, inputPath: inputPath,
                                            bytes: sink.size, contentType: nil, sha256: sha256, tokenSHA256: nil, ttlSeconds: 3600)
                    try db.uploadMarkStored(client: client, id: uploadID)
                    return try targets.map { to in
                        var job = NewJob(id: UUID(), clientID: client, inputFilename: name, inputFormat: from.id, inputPath: inputPath,
                                         inputBytes: sink.size, inputSHA256: sha256, outputFormat: to.id, optionsJSON: options,
                                         priority: priority, maxAttempts: app.config.maxAttempts, idempotencyKey: nil, uploadID: uploadID)
                        job.callbackURL = callback
                        return try insertJob(job)
                    }
                }
            }
            let body = "{\"upload_id\": \"\(uploadID.uuidString.lowercased())\", \"jobs\": ["
                + jobs.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ") + "]}"
            var headers = [("Location", "/api/uploads/\(uploadID.uuidString.lowercased())")]
            if let c = newCookie { headers.append(("Set-Cookie", c)) }
            return .json(201, try withCallbackSecret(client, callback, body), headers: headers)
        } catch let e as StoreError {
            try? store().delete(inputPath)
            if newCookie != nil { forgetNewClient(client) }
            if e.isCheckViolation, let usage = try withDB({ try $0.clientUsage(client) }) {
                throw overQuota(used: usage.used, limit: usage.limit)
            }
            throw e
        } catch {
            try? store().delete(inputPath)
            if newCookie != nil { forgetNewClient(client) }
            throw error
        }
    }
}
