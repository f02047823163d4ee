import DocFlowSandbox
import Foundation
import Testing

@Test func framesAndDescriptorsCrossTheChannel() throws {
    let (a, b) = try Channel.pair()
    let left = Channel(fd: a), right = Channel(fd: b)
    defer { left.close(); right.close() }
    let path = NSTemporaryDirectory() + "/channel-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: path, contents: Data("hello".utf8))
    defer { unlink(path) }
    let fd = open(path, O_RDONLY)
    let big = [UInt8](repeating: 0x41, count: 1 << 20)  // larger than a socket buffer: sent in parts
    let sender = Thread {
        _ = left.send(Channel.Frame.job, JobRequest(from: "csv", to: "json", optionsJSON: "{\"a\": \"x\\ty\"}").encoded, fds: [fd, fd])
        _ = left.send(Channel.Frame.progress, big)
    }
    sender.start()
    let job = try #require(right.receive())
    #expect(job.type == Channel.Frame.job)
    #expect(JobRequest(job.payload) == JobRequest(from: "csv", to: "json", optionsJSON: "{\"a\": \"x\\ty\"}"))
    #expect(job.fds.count == 2)
    var buf = [UInt8](repeating: 0, count: 5)
    #expect(pread(job.fds[0], &buf, 5, 0) == 5 && buf == Array("hello".utf8))
    job.fds.forEach { close($0) }
    close(fd)
    let large = try #require(right.receive())
    #expect(large.payload == big)
    left.close()
    #expect(right.receive() == nil)  // the peer is gone
}

@Test func resultsRoundTrip() {
    let done = JobResult.done(bytes: 42, warningsJSON: "[\"a\\tb\"]", metadataJSON: "{\"title\": \"x\\ty\"}")
    let failed = JobResult.failed(code: "bad_options", retry: false, message: "tab\there")
    for r in [done, failed] {
        let (t, p) = r.frame
        #expect(JobResult(type: t, payload: p) == r)
    }
    #expect(JobResult(type: Channel.Frame.done, payload: Array("x".utf8)) == nil)
    #expect(ProgressFrame.decode(ProgressFrame.encode(40, "reading\tCSV"))! == (40, "reading\tCSV"))
}

@Test func waitStatusesAreDescribed() {
    #expect(SandboxWorker.describe(9).signal == 9)            // killed by SIGKILL
    #expect(SandboxWorker.describe((128 + 11) << 8).signal == 11)  // bwrap: 128 + signal
    #expect(SandboxWorker.describe(3 << 8).code == 3)
}
