import DocFlowCore
import DocFlowStore
import Foundation
import Logging

/// One janitor pass (DESIGN.md): rescues jobs of lost runners, expires clients (files first,
/// then rows, in batches), and removes orphan and stale temporary files. Idempotent: a pass
/// killed half-way is finished by the next.
public struct Janitor {
    let config: Config
    let storage: Storage
    let logger: Logger
    /// Files younger than this are never orphans (an upload may be between rename and commit).
    public var orphanMinAge: TimeInterval
    public var batchSize = 100

    public init(config: Config, logger: Logger) {
        self.config = config
        self.storage = Storage(root: config.storage)
        self.logger = logger
        orphanMinAge = ProcessInfo.processInfo.environment["DOCFLOW_ORPHAN_MIN_AGE_SECONDS"].flatMap(Double.init) ?? 600
    }

    public struct Report: CustomStringConvertible {
        public var rescued = 0, expiredClients = 0, orphansRemoved = 0, tmpRemoved = 0
        public var description: String {
            "{\"rescued\": \(rescued), \"expired_clients\": \(expiredClients), \"orphans_removed\": \(orphansRemoved), \"tmp_removed\": \(tmpRemoved)}"
        }
    }

    public func run() throws -> Report {
        try storage.prepare()
        let db = try PGConnection(config.database)
        defer { db.close() }
        var report = Report()
        report.rescued = try db.jobRescue(backoffSeconds: config.retryBackoffSeconds, leaseSeconds: config.leaseSeconds)
        while true {
            let expired = try db.clientsExpired(limit: batchSize)
            if expired.isEmpty { break }
            for c in expired { storage.removeClient(c) }
            report.expiredClients += try db.clientsDelete(expired)
            if expired.count < batchSize { break }
        }
        report.orphansRemoved = try removeOrphans(db)
        report.tmpRemoved = removeStaleTmp()
        logger.info("janitor pass", metadata: ["docflow.janitor.report": "\(report)"])
        return report
    }

    private func age(_ path: String) -> TimeInterval {
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let m = attrs?[.modificationDate] as? Date ?? Date()
        return Date().timeIntervalSince(m)
    }

    /// Client folders with no client row, and files no job row points at.
    private func removeOrphans(_ db: PGConnection) throws -> Int {
        let fm = FileManager.default
        var removed = 0
        let clients = try db.clientIDs()
        for top in ["input", "output"] {
            for dir in (try? fm.contentsOfDirectory(atPath: storage.absolute(top))) ?? [] {
                let dirPath = storage.absolute("\(top)/\(dir)")
                // One client's paths at a time: the sweep never holds every job in memory.
                let paths = clients.contains(dir) ? try db.jobPaths(client: dir) : []
                for file in (try? fm.contentsOfDirectory(atPath: dirPath)) ?? [] {
                    let rel = "\(top)/\(dir)/\(file)"
                    if (!clients.contains(dir) || !paths.contains(rel)), age(storage.absolute(rel)) > orphanMinAge {
                        storage.remove(rel)
                        removed += 1
                    }
                }
                if !clients.contains(dir), ((try? fm.contentsOfDirectory(atPath: dirPath)) ?? []).isEmpty {
                    try? fm.removeItem(atPath: dirPath)
                }
            }
        }
        return removed
    }

    /// Temporary files older than any conversion may take, and the scratch folders (`sbx-*`) of
    /// converters whose runner died.
    private func removeStaleTmp() -> Int {
        let limit = max(orphanMinAge, config.jobTimeoutSeconds + config.leaseSeconds + 60)
        var removed = 0
        for f in (try? FileManager.default.contentsOfDirectory(atPath: storage.absolute("tmp"))) ?? [] where age(storage.absolute("tmp/\(f)")) > limit {
            storage.remove("tmp/\(f)")
            removed += 1
        }
        for f in (try? FileManager.default.contentsOfDirectory(atPath: storage.absolute("scratch"))) ?? []
        where f.hasPrefix("sbx-") && age(storage.absolute("scratch/\(f)")) > limit {
            try? FileManager.default.removeItem(atPath: storage.absolute("scratch/\(f)"))
            removed += 1
        }
        return removed
    }
}
