import DocFlowCore
import DocFlowStore
import Foundation
import Logging

/// One janitor pass (DESIGN.md): rescues jobs of lost runners, expires clients (files first,
/// then rows, in batches), and removes orphan and stale temporary files. Idempotent: a pass
/// killed half-way is finished by the next.
public struct Janitor {
    let config: Config
    /// This host's work folder (`tmp/`, `scratch/`).
    let storage: Storage
    let makeStore: ObjectStoreFactory
    let logger: Logger
    /// Files younger than this are never orphans (an upload may be between rename and commit).
    public var orphanMinAge: TimeInterval
    public var batchSize = 100

    public init(config: Config, store: ObjectStoreFactory? = nil, logger: Logger) {
        self.config = config
        self.storage = Storage(config: config)
        self.makeStore = store ?? LocalStore.factory(root: config.storage)
        self.logger = logger
        orphanMinAge = ProcessInfo.processInfo.environment["DOCFLOW_ORPHAN_MIN_AGE_SECONDS"].flatMap(Double.init) ?? 600
    }

    public struct Report: CustomStringConvertible {
        public var rescued = 0, expiredClients = 0, uploadsReleased = 0, orphansRemoved = 0, tmpRemoved = 0
        public var description: String {
            "{\"rescued\": \(rescued), \"expired_clients\": \(expiredClients), \"uploads_released\": \(uploadsReleased), "
                + "\"orphans_removed\": \(orphansRemoved), \"tmp_removed\": \(tmpRemoved)}"
        }
    }

    public func run() throws -> Report {
        try storage.prepare()
        let db = try PGConnection(config.database)
        defer { db.close() }
        let store = try makeStore()
        var report = Report()
        report.rescued = try db.jobRescue(backoffSeconds: config.retryBackoffSeconds, leaseSeconds: config.leaseSeconds)
        while true {
            let expired = try db.clientsExpired(limit: batchSize)
            if expired.isEmpty { break }
            // Files first (a pass that stops here leaves rows whose files the next pass removes).
            for c in expired {
                for prefix in Storage.clientPrefixes(c) { try store.deletePrefix(prefix) }
            }
            report.expiredClients += try db.clientsDelete(expired)
            if expired.count < batchSize { break }
        }
        // Upload slots never finished or never used: object (if any), then row and reserved bytes.
        while true {
            let expired = try db.uploadsExpired(limit: batchSize)
            if expired.isEmpty { break }
            for u in expired {
                unlink(Storage.incomingPath(config, upload: u.id))  // a local body never asked for
                try store.delete(u.key)
            }
            report.uploadsReleased += try db.uploadsDelete(expired.map(\.id))
            if expired.count < batchSize { break }
        }
        report.orphansRemoved = try removeOrphans(db, store)
        report.tmpRemoved = removeStaleTmp()
        logger.info("janitor pass", metadata: ["docflow.janitor.report": "\(report)"])
        return report
    }

    private func age(_ path: String) -> TimeInterval {
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let m = attrs?[.modificationDate] as? Date ?? Date()
        return Date().timeIntervalSince(m)
    }

    /// Objects of clients with no row, and objects no job row points at, once older than
    /// `orphanMinAge` (an upload may be between storing and inserting its job). One listing per
    /// prefix (`input/`, `output/`), sorted by key, so one client's objects come together: the
    /// sweep holds the listing's keys but only one client's job paths at a time.
    private func removeOrphans(_ db: PGConnection, _ store: any ObjectStore) throws -> Int {
        var removed = 0
        let clients = try db.clientIDs()
        for top in ["input/", "output/"] {
            var client = "", paths: Set<String> = []
            for object in try store.list(prefix: top) {
                let parts = object.key.split(separator: "/")
                guard parts.count == 3 else { continue }
                if parts[1] != client {
                    client = String(parts[1])
                    paths = clients.contains(client) ? try db.jobPaths(client: client) : []
                }
                if !paths.contains(object.key), object.age > orphanMinAge {
                    try store.delete(object.key)
                    removed += 1
                }
            }
        }
        if storage.local { removeEmptyClientFolders(clients) }
        return removed
    }

    /// The local backend's leftovers: part files of writes whose process died (no object, so no
    /// listing shows them) and the folders of clients that are gone, once empty.
    private func removeEmptyClientFolders(_ clients: Set<String>) {
        let fm = FileManager.default
        for top in ["input", "output"] {
            for dir in (try? fm.contentsOfDirectory(atPath: storage.absolute(top))) ?? [] {
                let path = storage.absolute("\(top)/\(dir)")
                for f in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where f.hasSuffix(".part") && age("\(path)/\(f)") > orphanMinAge {
                    unlink("\(path)/\(f)")
                }
                if !clients.contains(dir), ((try? fm.contentsOfDirectory(atPath: path)) ?? ["?"]).isEmpty { try? fm.removeItem(atPath: path) }
            }
        }
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
        // Bodies nginx wrote for direct uploads whose slot has ended without taking them (a slot
        // that takes its file moves it into storage before its expiry; the client may be gone).
        for f in (try? FileManager.default.contentsOfDirectory(atPath: config.incomingDir)) ?? []
        where !f.hasPrefix(".") && age("\(config.incomingDir)/\(f)") > Double(config.uploadSlotSeconds) + 60 {
            if unlink("\(config.incomingDir)/\(f)") == 0 { removed += 1 }
        }
        for f in (try? FileManager.default.contentsOfDirectory(atPath: storage.absolute("scratch"))) ?? []
        where f.hasPrefix("sbx-") && age(storage.absolute("scratch/\(f)")) > limit {
            try? FileManager.default.removeItem(atPath: storage.absolute("scratch/\(f)"))
            removed += 1
        }
        return removed
    }
}
