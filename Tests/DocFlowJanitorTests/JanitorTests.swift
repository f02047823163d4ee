import DocFlowCore
import DocFlowJanitor
import DocFlowStore
import Foundation
import Logging
import TestDatabase
import Testing

/// A janitor pass against a real PostgreSQL and a storage folder: what expired goes (files, rows,
/// quota), orphans old enough go, files a job points at and young files stay.
@Suite(.enabled(if: TestDatabase.available, "needs DOCFLOW_TEST_DATABASE (scripts/test sets it)"))
struct JanitorTests {
    @Test func aPassExpiresClientsAndSweepsOrphans() throws {
        let conninfo = try TestDatabase.freshSchema()
        let db = try PGConnection(conninfo)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("docflow-janitor-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let storage = Storage(root: root)
        try storage.prepare()
        func put(_ rel: String, old: Bool) throws {
            try AtomicFile.write(to: storage.absolute(rel)) { try $0.write([1, 2, 3]) }
            if old { try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: storage.absolute(rel)) }
        }
        // A live client with a job and its input; an expired client with a job and its input.
        let (live, liveJobs) = try TestDatabase.seed(db, jobs: 1)
        let (gone, goneJobs) = try TestDatabase.seed(db, jobs: 1)
        let liveInput = Storage.inputPath(client: live, job: liveJobs[0], ext: "csv")
        let goneInput = Storage.inputPath(client: gone, job: goneJobs[0], ext: "csv")
        try put(liveInput, old: true)
        try put(goneInput, old: true)
        try db.query("UPDATE clients SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = \(gone)")
        // Orphans: an old file no job points at (removed), a young one (kept: it may be an upload
        // between its rename and its commit), and a folder of no client.
        let orphanOld = Storage.outputPath(client: live, job: UUID(), attempt: 1, ext: "json")
        let orphanYoung = Storage.outputPath(client: live, job: UUID(), attempt: 1, ext: "json")
        let strayFolder = Storage.inputPath(client: UUID(), job: UUID(), ext: "csv")
        try put(orphanOld, old: true)
        try put(orphanYoung, old: false)
        try put(strayFolder, old: true)
        try put("tmp/\(UUID().uuidString.lowercased())-upload.part", old: true)

        var env = ProcessInfo.processInfo.environment
        env["DOCFLOW_DATABASE"] = conninfo
        env["DOCFLOW_STORAGE"] = root
        var janitor = Janitor(config: Config(environment: env), logger: Logger(label: "test"))
        janitor.orphanMinAge = 600
        let report = try janitor.run()
        #expect(report.expiredClients == 1)
        #expect(report.orphansRemoved == 2, "\(report)")
        #expect(report.tmpRemoved == 1)
        let exists = { (rel: String) in FileManager.default.fileExists(atPath: storage.absolute(rel)) }
        #expect(exists(liveInput) && exists(orphanYoung))
        #expect(!exists(goneInput) && !exists(orphanOld) && !exists(strayFolder))
        #expect(try !db.clientIsLive(gone) && db.clientUsage(gone) == nil)
        #expect(try db.query("SELECT count(*) AS n FROM jobs").first?.decode("n", as: Int.self) == 1)
        // Idempotent: a second pass finds nothing more.
        let again = try janitor.run()
        #expect(again.expiredClients == 0 && again.orphansRemoved == 0 && again.tmpRemoved == 0)
    }
}
