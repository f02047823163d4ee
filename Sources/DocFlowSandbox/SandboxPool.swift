import Foundation

/// How converters are isolated (`DOCFLOW_SANDBOX`).
public enum SandboxMode: String, Sendable {
    /// bubblewrap: own user, PID, network, IPC, UTS and mount namespaces, no capabilities,
    /// no_new_privs, a read-only view of /usr and the fonts, its scratch folder as /tmp.
    case bwrap
    /// A plain child process with the same limits but no namespaces: development only.
    case off
}

/// One converter process and its scratch folder, bound to one client once it has taken a job.
public final class SandboxWorker: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the conversion thread), `pid` read by the runner
    // thread only to kill it.
    public let pid: pid_t
    public let channel: Channel
    /// Absolute path of its scratch folder (its /tmp), removed when the worker goes.
    public let scratch: String
    public var client: UUID?
    public var jobs = 0
    private var readySeen = false
    private var reaped: Int32?

    init(pid: pid_t, channel: Channel, scratch: String) {
        self.pid = pid; self.channel = channel; self.scratch = scratch
    }

    /// Waits for the worker's ready frame; false when it died first (the sandbox could not be set up).
    public func waitReady() -> Bool {
        if readySeen { return true }
        guard let f = channel.receive(), f.type == Channel.Frame.ready else { return false }
        readySeen = true
        return true
    }

    /// Kills the worker (SIGKILL: bwrap's --die-with-parent and the PID namespace take everything
    /// it started with it) and reaps it; returns its wait status.
    @discardableResult
    public func kill() -> Int32 {
        if let r = reaped { return r }
        _ = Foundation.kill(pid, SIGKILL)
        return reap()
    }

    /// The link ended: gives the worker `grace` seconds to exit by itself (its own status says
    /// why: a crash signal, a limit), then kills it. The wait status, and whether it was killed here.
    public func settle(grace: Double) -> (status: Int32, killed: Bool) {
        if let r = reaped { return (r, false) }
        let deadline = Date().addingTimeInterval(grace)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                reaped = status
                channel.close()
                try? FileManager.default.removeItem(atPath: scratch)
                return (status, false)
            }
            if r < 0 && errno != EINTR { break }
            usleep(2_000)
        }
        return (kill(), true)
    }

    /// Waits for the worker to exit; its wait status.
    @discardableResult
    public func reap() -> Int32 {
        if let r = reaped { return r }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = status
        channel.close()
        try? FileManager.default.removeItem(atPath: scratch)
        return status
    }

    /// Empties the scratch folder between jobs (the XLSX writer's workbook, a sheet's spill).
    public func cleanScratch() {
        for f in (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(scratch)/\(f)")
        }
    }

    /// How a worker's end reads: the signal that ended it (bwrap reports 128 + signal), or its code.
    public static func describe(_ status: Int32) -> (signal: Int32?, code: Int32?) {
        let termsig = status & 0x7f
        if termsig != 0 && termsig != 0x7f { return (termsig, nil) }
        let code = (status >> 8) & 0xff
        return code > 128 ? (code - 128, nil) : (nil, code)
    }
}

/// The runner's converters: one warm spare always started ahead (its process start, ~25 ms, is
/// paid while the previous job converts, not by the next upload), and the current worker, reused
/// for further jobs **of the same client only**, at most `limits.maxJobs` (bench/README.md has the
/// measurements behind this: a fresh process per job halves the drain rate of small jobs).
public final class SandboxPool: @unchecked Sendable {
    // @unchecked: used from the conversion thread only, except `kill` of `current` by the runner.
    public let mode: SandboxMode
    public let limits: Worker.Limits
    let workerBinary: String
    let scratchRoot: String
    let testHooks: Bool
    /// bubblewrap's path (`DOCFLOW_BWRAP`).
    let bwrapPath: String
    private var spare: SandboxWorker?
    private var current: SandboxWorker?

    public init(mode: SandboxMode, limits: Worker.Limits, workerBinary: String, scratchRoot: String, testHooks: Bool,
                bwrapPath: String = "/usr/bin/bwrap") {
        self.mode = mode; self.limits = limits; self.workerBinary = workerBinary
        self.scratchRoot = scratchRoot; self.testHooks = testHooks; self.bwrapPath = bwrapPath
    }

    /// Starts the spare and waits until it is ready: the runner's start-up check. Throws when the
    /// sandbox cannot be set up (no bwrap, no user namespaces), so nothing runs unsandboxed.
    public func check() throws {
        if mode == .bwrap, access(bwrapPath, X_OK) != 0 {
            throw SandboxError("the conversion sandbox cannot be set up: \(bwrapPath) is missing (apt-get install bubblewrap; "
                + "DOCFLOW_SANDBOX=off runs converters unsandboxed, for development only)")
        }
        let w = try spawn()
        guard w.waitReady() else {
            let status = w.kill()
            throw SandboxError("the conversion sandbox (\(mode.rawValue)) could not be set up: the worker exited before it was ready "
                + "(wait status \(status); bwrap's message is in this log above). Install bubblewrap and allow unprivileged user namespaces, "
                + "or set DOCFLOW_SANDBOX=off for development only.")
        }
        spare = w
    }

    /// A ready worker for a job of `client`: the current one if it serves that client and has jobs
    /// left, else the spare (a new spare is started at once).
    public func worker(for client: UUID) throws -> SandboxWorker {
        if let c = current, c.client == client, c.jobs < limits.maxJobs {
            _ = utime(c.scratch, nil)  // in use: the janitor removes only scratch folders left untouched
            return c
        }
        retireCurrent()
        var w = try spare ?? spawn()
        spare = nil
        if !w.waitReady() {  // died while waiting (killed from outside): one more try
            w.kill()
            w = try spawn()
            guard w.waitReady() else { w.kill(); throw SandboxError("a converter could not be started") }
        }
        w.client = client
        current = w
        spare = try? spawn()
        return w
    }

    /// The current worker died or was killed: forget it (already reaped).
    public func discard(_ w: SandboxWorker) {
        if current === w { current = nil }
    }

    /// The current worker's job is over; it goes if it has no jobs left.
    public func finished(_ w: SandboxWorker) {
        w.jobs += 1
        w.cleanScratch()
        if w.jobs >= limits.maxJobs { retireCurrent() }
    }

    private func retireCurrent() {
        guard let c = current else { return }
        current = nil
        c.channel.close()  // the worker's next receive sees the end and it exits
        c.kill()
    }

    /// Stops every worker (the runner is exiting).
    public func shutdown() {
        retireCurrent()
        spare?.kill()
        spare = nil
    }

    /// Starts a worker (not yet ready): its scratch folder, a socket pair, bwrap or the binary.
    func spawn() throws -> SandboxWorker {
        let scratch = "\(scratchRoot)/sbx-\(UUID().uuidString.lowercased())"
        guard mkdir(scratch, 0o700) == 0 else {
            throw SandboxError("scratch folder \(scratch): \(String(cString: strerror(errno)))")
        }
        let (mine, theirs) = try Channel.pair()
        var argv: [String]
        var env: [String]
        let workerArgs = limits.arguments + (testHooks ? ["--test-hooks"] : [])
        switch mode {
        case .bwrap:
            let args = workerArgs + ["--pid-namespace"]
            argv = Bubblewrap.arguments(bwrap: bwrapPath, scratch: scratch, worker: workerBinary,
                                        environment: ["DOCFLOW_WORKER_ARGS": args.joined(separator: " ")]) + args
            env = []
        case .off:
            argv = [workerBinary] + workerArgs
            env = ["HOME=\(scratch)", "TMPDIR=\(scratch)", "LANG=C.UTF-8", "DOCFLOW_WORKER_ARGS=\(workerArgs.joined(separator: " "))"]
        }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&fa, theirs, Worker.channelFD)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The worker must not get the runner's signal dispositions or mask.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none); sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let cargv = argv.map { strdup($0) } + [nil]
        let cenv = env.map { strdup($0) } + [nil]
        defer { cargv.forEach { free($0) }; cenv.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &fa, &attr, cargv, cenv)
        close(theirs)
        guard rc == 0 else {
            close(mine)
            rmdir(scratch)
            throw SandboxError("could not start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return SandboxWorker(pid: pid, channel: Channel(fd: mine), scratch: scratch)
    }
}

/// The bubblewrap command line of one worker.
enum Bubblewrap {
    /// /proc is the sandbox's own (`--proc` in its new PID namespace: its processes only, no
    /// runner's): libdispatch reads /proc/self/task/*/stat to watch its thread pool, and without it
    /// crashed a converter now and then (SIGILL in `_dispatch_workq_monitor_pools`; a CSV → PDF
    /// conversion of a 2 MiB field, about one job in five). The command line still comes in
    /// `environment` (it did before /proc was mounted).
    static func arguments(bwrap: String, scratch: String, worker: String, environment: [String: String]) -> [String] {
        var a = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
                 "--cap-drop", "ALL", "--clearenv",
                 "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"]
        for (k, v) in environment.sorted(by: { $0.key < $1.key }) { a += ["--setenv", k, v] }
        a += ["--ro-bind", "/usr", "/usr"]
        // /bin, /lib, … are links into /usr on a merged-/usr system (Debian 12), folders elsewhere.
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: top) {
                a += ["--symlink", target, top]
            } else if FileManager.default.fileExists(atPath: top) {
                a += ["--ro-bind", top, top]
            }
        }
        // What the C libraries read: the loader cache, fontconfig's configuration and cache,
        // the time zone, and the CPU count (sysconf).
        for path in ["/etc/ld.so.cache", "/etc/fonts", "/var/cache/fontconfig", "/etc/localtime", "/sys/devices/system/cpu"] {
            a += ["--ro-bind-try", path, path]
        }
        a += ["--dev", "/dev", "--proc", "/proc", "--bind", scratch, "/tmp", "--ro-bind", worker, "/docflow/convert-worker",
              "--remount-ro", "/", "--chdir", "/tmp", "--", "/docflow/convert-worker"]
        return a
    }
}
