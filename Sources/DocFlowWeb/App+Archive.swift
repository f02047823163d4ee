import DocFlowCore
import DocFlowStore
import Foundation

extension App.Worker {
    /// `GET /api/jobs/archive?ids=a,b,…` (or, without ids, every done job): one ZIP of the outputs
    /// under their download names (a name met twice gets " (2)"), streamed as it is built — each
    /// output read from the store in pieces, never the archive nor a file whole in memory.
    /// 409 `not_ready` when a named job is not done; 404 `no_outputs` when there is nothing to pack.
    func archiveJobs(_ req: Request) throws -> Response {
        let client = try requireClient(req)
        var ids: [UUID]?
        if let text = req.query["ids"] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { UUID(uuidString: String($0)) }
            guard !parts.isEmpty, parts.count <= Self.archiveLimit, parts.allSatisfy({ $0 != nil }) else {
                throw APIError(400, "bad_ids", "ids is 1 to \(Self.archiveLimit) job ids separated by commas.")
            }
            ids = Array(Set(parts.compactMap { $0 }))
        }
        let rows = try withDB { try $0.jobOutputs(client: client, ids: ids, limit: Self.archiveLimit) }
        if let ids, rows.count < ids.count {
            let done = Set(rows.map(\.id))
            let missing = ids.first { !done.contains($0) }!
            guard try withDB({ try $0.jobFindJSON(client: client, id: missing) }) != nil else { throw APIError.notFound }
            throw APIError(409, "not_ready", "Job \(missing.uuidString.lowercased()) is not done: only done jobs have outputs to archive.")
        }
        guard !rows.isEmpty else { throw APIError(404, "no_outputs", "None of your jobs is done: there is nothing to archive.") }
        var seen: [String: Int] = [:]
        let entries: [(name: String, key: String)] = rows.compactMap { row in
            guard let key = row.files.outputPath else { return nil }
            let ext = app.formats.format(named: row.files.outputFormat)?.extensions.first ?? row.files.outputFormat
            var name = Self.downloadName(row.files.inputFilename, ext: ext)
            let n = (seen[name] ?? 0) + 1
            seen[name] = n
            if n > 1 { name = String(name.dropLast(ext.count + 1)) + " (\(n)).\(ext)" }
            return (name, key)
        }
        let store = try store()
        var r = Response(status: 200, headers: [
            ("Content-Type", "application/zip"),
            ("Content-Disposition", Self.contentDisposition("docflow-outputs.zip")),
            ("Cache-Control", "private, no-store"),
        ])
        r.stream = { out in
            var zip = ZipStream(out: out)
            for entry in entries {
                let fd = try store.openForReading(entry.key)
                defer { close(fd) }
                try zip.add(name: entry.name, fd: fd)
            }
            try zip.finish()
        }
        return r
    }

    /// Most jobs in one archive (each output is opened in turn).
    static let archiveLimit = 200
}
