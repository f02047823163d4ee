import DocFlowConvert
import DocFlowCore
import DocFlowModel
import Foundation

/// The converter's side (`convert-worker`, started by the runner inside the sandbox): applies its
/// limits, says it is ready, then converts each job it is handed — input and output as open
/// descriptors, never paths — and answers with the result. Exits when the runner closes the link.
/// It has no database connection, no credentials (its environment is cleared) and no network.
public enum Worker {
    /// The channel's descriptor in the worker (the runner dup2s its end here).
    public static let channelFD: Int32 = 3

    /// Limits the worker puts on itself before it reads any job (hard limits: not raised again).
    public struct Limits: Sendable {
        public var memoryMB = 4096
        public var cpuSecondsPerJob = 300
        public var fileMB = 1024
        public var openFiles = 256
        public var processes = 256
        public var maxJobs = 500

        public init() {}

        /// `--memory-mb N --cpu-seconds N --file-mb N --max-jobs N` (what `SandboxPool` passes).
        public var arguments: [String] {
            ["--memory-mb", "\(memoryMB)", "--cpu-seconds", "\(cpuSecondsPerJob)", "--file-mb", "\(fileMB)", "--max-jobs", "\(maxJobs)"]
        }
    }

    /// Runs the worker; returns the process's exit code.
    public static func main(_ args: [String]) -> Int32 {
        var limits = Limits()
        var testHooks = false
        var ownPIDNamespace = false
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--memory-mb": limits.memoryMB = it.next().flatMap { Int($0) } ?? limits.memoryMB
            case "--cpu-seconds": limits.cpuSecondsPerJob = it.next().flatMap { Int($0) } ?? limits.cpuSecondsPerJob
            case "--file-mb": limits.fileMB = it.next().flatMap { Int($0) } ?? limits.fileMB
            case "--max-jobs": limits.maxJobs = it.next().flatMap { Int($0) } ?? limits.maxJobs
            case "--test-hooks": testHooks = true
            case "--pid-namespace": ownPIDNamespace = true
            default:
                FileHandle.standardError.write(Data("usage: convert-worker [--memory-mb N] [--cpu-seconds N] [--file-mb N] [--max-jobs N] [--test-hooks]\n".utf8))
                return 64
            }
        }
        // Nothing but the channel and the standard streams stays open (a descriptor leaked by
        // whatever started us is not the converter's to use).
        closeFrom(4)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)  // a write past the file-size limit fails with EFBIG instead
        guard apply(limits) else { return 70 }
        Allocator.reuseFreedBuffers()
        let channel = Channel(fd: channelFD)
        guard channel.send(Channel.Frame.ready) else { return 0 }
        let registry = FormatRegistry.standard
        var jobs = 0
        while jobs < limits.maxJobs, let frame = channel.receive() {
            guard frame.type == Channel.Frame.job, frame.fds.count == 2, let request = JobRequest(frame.payload) else {
                frame.fds.forEach { close($0) }
                return 65
            }
            jobs += 1
            setCPULimit(perJob: limits.cpuSecondsPerJob, jobs: limits.maxJobs)
            let result = convert(request, input: frame.fds[0], output: frame.fds[1], registry: registry,
                                 channel: channel, fileMB: limits.fileMB, testHooks: testHooks)
            close(frame.fds[0])
            close(frame.fds[1])
            // Whatever the conversion started (a hostile file's code forking) ends with the job:
            // in the sandbox's own PID namespace, kill(-1) reaches every process but bwrap's init
            // and this one. Never outside it (it would reach every process of the user).
            if ownPIDNamespace, getpid() == 2 {
                _ = kill(-1, SIGKILL)
                var status: Int32 = 0
                while waitpid(-1, &status, 0) > 0 || errno == EINTR {}  // reap this process's own children
            }
            let (type, payload) = result.frame
            guard channel.send(type, payload) else { return 0 }
        }
        return 0
    }

    static func convert(_ request: JobRequest, input: Int32, output: Int32, registry: FormatRegistry,
                        channel: Channel, fileMB: Int, testHooks: Bool) -> JobResult {
        guard let from = registry.format(named: request.from), let to = registry.format(named: request.to) else {
            return .failed(code: "unknown_format", retry: false, message: "This runner does not know the job's formats.")
        }
        // Checked at upload already; checked again here, against this converter's declarations
        // (a job queued by an older fcgi-app fails with the reason instead of reaching a converter).
        let options: Options
        do {
            options = try registry.options.check(json: request.optionsJSON, from: from, to: to, allowDebug: testHooks)
        } catch {
            return .failed(code: ConversionError.Code.badOptions.rawValue, retry: false, message: error.message)
        }
        let throttle = ProgressThrottle(channel: channel)
        let context = ConversionContext(options: options) { throttle.send($0, $1) }
        do {
            if testHooks {
                let raw = (try? JSONSerialization.jsonObject(with: Data(request.optionsJSON.utf8))) as? [String: Any] ?? [:]
                try TestHooks.apply(raw, context: context, output: output)
            }
            let sink = FileSink(fd: output)
            let summary = try registry.convert(.descriptor(input), from: from, to: to, sink: sink, context: context)
            return .done(bytes: Int64(summary.byteCount), warningsJSON: summary.warningsJSON, metadataJSON: summary.metadataJSON)
        } catch let e as ConversionError {
            return .failed(code: e.code.rawValue, retry: false, message: e.message)
        } catch let e as SinkError where e.errno == EFBIG {
            return .failed(code: "too_large", retry: false, message: "The output passed the \(fileMB) MiB file-size limit of a conversion.")
        } catch is SinkError {
            return .failed(code: "storage", retry: true, message: "The output could not be written.")
        } catch {
            return .failed(code: "internal", retry: true, message: "The conversion failed unexpectedly; it will be retried.")
        }
    }

    /// setrlimit for address space, file size, open files, processes (counted in the sandbox's own
    /// user namespace) and core dumps; CPU time is set per job.
    static func apply(_ l: Limits) -> Bool {
        func set(_ resource: Int32, _ value: Int) -> Bool {
            var r = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
            if setrlimit(__rlimit_resource_t(UInt32(resource)), &r) == 0 { return true }
            FileHandle.standardError.write(Data("convert-worker: setrlimit(\(resource)) failed: \(String(cString: strerror(errno)))\n".utf8))
            return false
        }
        var ok = set(Int32(RLIMIT_FSIZE.rawValue), l.fileMB << 20)
            && set(Int32(RLIMIT_NOFILE.rawValue), l.openFiles)
            && set(6 /* RLIMIT_NPROC, a macro Swift does not import */, l.processes)
            && set(Int32(RLIMIT_CORE.rawValue), 0)
        if l.memoryMB > 0 { ok = ok && set(Int32(RLIMIT_AS.rawValue), l.memoryMB << 20) }
        var cpu = rlimit(rlim_cur: rlim_t(l.cpuSecondsPerJob), rlim_max: rlim_t(l.cpuSecondsPerJob * (l.maxJobs + 1)))
        return ok && setrlimit(__rlimit_resource_t(UInt32(RLIMIT_CPU.rawValue)), &cpu) == 0
    }

    /// The soft CPU limit: what was used so far plus one job's allowance (the hard limit, set at
    /// start, covers every job the worker may take).
    static func setCPULimit(perJob: Int, jobs: Int) {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let used = Int(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1
        var r = rlimit()
        getrlimit(__rlimit_resource_t(UInt32(RLIMIT_CPU.rawValue)), &r)
        r.rlim_cur = min(r.rlim_max, rlim_t(used + perJob))
        setrlimit(__rlimit_resource_t(UInt32(RLIMIT_CPU.rawValue)), &r)
    }

    static func closeFrom(_ lowest: Int32) {
        // close_range(2) is not imported into Swift; the runner's descriptors are close-on-exec
        // anyway, so this only guards against a careless parent (a few thousand cheap calls).
        var r = rlimit()
        getrlimit(__rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)), &r)
        for fd in lowest..<Int32(min(r.rlim_cur, 1024)) { _ = close(fd) }
    }
}

/// Progress goes to the runner only once a job has run 100 ms, then at most every 50 ms (the runner
/// writes it at most every 250 ms): each frame wakes the runner, and on a virtual machine a wake-up
/// across cores costs tens of microseconds — per tiny job, four of them halved the drain rate.
final class ProgressThrottle: @unchecked Sendable {
    // @unchecked: state under `lock`.
    private let channel: Channel
    private let lock = NSLock()
    private let started = Date().timeIntervalSinceReferenceDate
    private var last = 0.0
    private var sent: (Int, String) = (-1, "")

    init(channel: Channel) { self.channel = channel }

    func send(_ percent: Int, _ step: String) {
        let now = Date().timeIntervalSinceReferenceDate
        guard now - started >= 0.1 else { return }
        lock.lock()
        guard (percent, step) != sent, now - last >= 0.05 else { lock.unlock(); return }
        last = now
        sent = (percent, step)
        lock.unlock()
        channel.send(Channel.Frame.progress, ProgressFrame.encode(percent, step))
    }
}
