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
        if options["debug_crash"] as? Bool == true {
            kill(getpid(), SIGKILL)  // as a segfault or the OOM killer would: no cleanup at all
        }
    }
}
