import DocFlowConvert
import DocFlowCore
import DocFlowModel
import Foundation

/// Job options that make a conversion misbehave on purpose, for the crash, limit and sandbox tests.
/// Honoured only when the runner was started with `DOCFLOW_TEST_HOOKS=1` (it then passes
/// `--test-hooks` to its converters); never in production. They run inside the sandbox, where a
/// hostile file's code would run; each probe's outcome is reported in the job's metadata under
/// `debug_probes` ("refused: …" or "allowed"), so a test can see that the sandbox held.
enum TestHooks {
    static func apply(_ options: [String: Any], context: ConversionContext, output: Int32) throws {
        var probes: [(String, MetaValue)] = []
        func record(_ name: String, _ ok: Bool) {
            probes.append((name, .text(ok ? "allowed" : "refused: \(String(cString: strerror(errno)))")))
        }
        if let port = options["debug_connect_port"] as? Int {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            if s < 0 {
                record("connect", false)
            } else {
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(port).bigEndian)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                record("connect", r == 0)
                close(s)
            }
        }
        for path in options["debug_read_paths"] as? [String] ?? [] {
            let fd = open(path, O_RDONLY)
            record("read \(path)", fd >= 0)
            if fd >= 0 { close(fd) }
        }
        for path in options["debug_write_paths"] as? [String] ?? [] {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            record("write \(path)", fd >= 0)
            if fd >= 0 { close(fd) }
        }
        if options["debug_fork_bomb"] as? Bool == true {
            // Forks until refused; the children wait forever (the sandbox's PID namespace ends them).
            var n = 0
            while n < 100_000 {
                let pid = fork()
                if pid == 0 { while true { pause() } }
                if pid < 0 { break }
                n += 1
            }
            probes.append(("fork", .text(n < 100_000 ? "refused after \(n) processes: \(String(cString: strerror(errno)))" : "allowed")))
        }
        if options["debug_leave_child"] as? Bool == true {
            if fork() == 0 { while true { pause() } }
        }
        if !probes.isEmpty { context.report("debug_probes", .object(probes)) }
        if let mb = options["debug_write_mb"] as? Int, mb > 0 {
            // Writes past the file-size limit fail with EFBIG (SIGXFSZ is ignored).
            let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
            for _ in 0..<mb where !chunk.withUnsafeBytes({ FileSink.writeAll(output, $0) }) {
                throw SinkError(errno: errno)
            }
        }
        if let ms = options["debug_sleep_ms"] as? Int, ms > 0 {
            let steps = max(1, ms / 50)
            for i in 0..<steps {
                usleep(50_000)
                context.progress(i * 100 / steps, "sleeping (test hook)")
            }
        }
        if options["debug_spin"] as? Bool == true {
            var x = 0
            while true {  // forever, on the CPU (the yield keeps the optimiser from folding the loop)
                x &+= 1
                if x & 0xFFFFFF == 0 { sched_yield() }
            }
        }
        if let mb = options["debug_alloc_mb"] as? Int, mb > 0 {
            // Touch every page, as a conversion of a huge file would; past RLIMIT_AS this dies.
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: mb << 20)
            for i in stride(from: 0, to: mb << 20, by: 4096) { p[i] = 1 }
            p.deallocate()
        }
        if options["debug_close_channel"] as? Bool == true {
            close(Worker.channelFD)  // the runner sees the link go before any result
            sleep(3600)
        }
        if options["debug_crash"] as? Bool == true {
            kill(getpid(), SIGKILL)  // as a segfault or the OOM killer would: no cleanup at all
        }
    }
}
