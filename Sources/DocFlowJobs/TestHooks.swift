import DocFlowConvert
import Foundation

/// Job options that make a conversion misbehave on purpose, for the crash and timeout tests.
/// Honoured only when `DOCFLOW_TEST_HOOKS=1` is set for the runner; never in production.
enum TestHooks {
    static func apply(_ options: [String: Any], context: ConversionContext) {
        if let ms = options["debug_sleep_ms"] as? Int, ms > 0 {
            let steps = max(1, ms / 50)
            for i in 0..<steps {
                usleep(50_000)
                context.progress(i * 100 / steps, "sleeping (test hook)")
            }
        }
        if let mb = options["debug_alloc_mb"] as? Int, mb > 0 {
            // Touch every page, as a conversion of a huge file would; past RLIMIT_AS this dies.
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: mb << 20)
            for i in stride(from: 0, to: mb << 20, by: 4096) { p[i] = 1 }
            p.deallocate()
        }
        if options["debug_crash"] as? Bool == true {
            kill(getpid(), SIGKILL)  // as a segfault or the OOM killer would: no cleanup at all
        }
    }
}
