import Foundation

/// Settings shared by every Doc Flow process, read from `DOCFLOW_*` environment variables.
/// The setup script writes them to `var/docflow.env`; systemd units and cron source that file.
public struct Config: Sendable {
    /// libpq connection string.
    public var database: String
    /// Where files are kept: a local directory (the root of `input/`, `output/`, `tmp/`), or
    /// `s3://bucket` for an S3-compatible object store (`s3*` settings below).
    public var storage: String
    /// This host's private folder for files on their way in or out (`tmp/`, converters' `scratch/`):
    /// the storage root itself on the local backend (renames stay on one filesystem).
    public var workDir: String
    /// The S3 API's base URL (`http(s)://host[:port]`), path-style requests.
    public var s3Endpoint: String
    public var s3Region: String
    /// Credentials, from the environment or from `DOCFLOW_S3_CREDENTIALS_FILE` (read by DocFlowS3).
    public var s3AccessKeyID: String
    public var s3SecretAccessKey: Secret
    public var s3CredentialsFile: String
    /// The bucket when `storage` is `s3://bucket`.
    public var s3Bucket: String? {
        guard storage.hasPrefix("s3://") else { return nil }
        let b = storage.dropFirst(5).split(separator: "/").first.map(String.init) ?? ""
        return b.isEmpty ? nil : b
    }
    /// Per-client quota in bytes (inputs + outputs).
    public var quotaBytes: Int64
    /// Lifetime of a client and all it owns.
    public var clientTTLSeconds: Int
    /// Largest accepted upload, in bytes (nginx enforces the same with client_max_body_size).
    public var maxUploadBytes: Int64
    /// How long a direct-upload slot accepts its file.
    public var uploadSlotSeconds: Int
    /// The folder nginx writes direct uploads to on the local backend (same filesystem as storage).
    public var incomingDir: String
    /// Per-job wall-clock limit.
    public var jobTimeoutSeconds: Double
    /// Address-space limit of a converter process, in MiB (setrlimit RLIMIT_AS); 0 for none.
    public var jobMemoryMB: Int
    /// Largest file a converter may write (its output, its temporary files), in MiB (RLIMIT_FSIZE).
    public var jobFileMB: Int
    /// How conversions are isolated: `bwrap` (bubblewrap, the default) or `off` (development only).
    public var sandbox: String
    /// bubblewrap's path.
    public var bwrap: String
    /// Jobs one converter process may take (of one client) before it is replaced.
    public var workerMaxJobs: Int
    /// Lease of a claimed job; the runner renews it every third of this.
    public var leaseSeconds: Double
    /// How many runners may work at once on this database.
    public var runnerSlots: Int
    /// How long one cron-started runner keeps taking jobs before it hands its slot on.
    public var runnerBudgetSeconds: Double
    /// How long a runner past its budget keeps working while no successor has come for its slot
    /// (cron starts one every minute); 0: exit at the budget, and never wait to succeed another.
    public var runnerHandoffSeconds: Double
    /// How long a runner keeps reconnecting to a database it lost before it gives up.
    public var runnerReconnectSeconds: Double
    /// Attempts before a job fails for good.
    public var maxAttempts: Int
    /// Base delay before a retry (times the attempt number).
    public var retryBackoffSeconds: Double
    /// The FastCGI socket fcgi-app listens on.
    public var fcgiSocket: String
    /// Worker threads of fcgi-app, one database connection each.
    public var fcgiThreads: Int
    /// Where ws-gateway listens (nginx proxies /ws here).
    public var wsHost: String
    public var wsPort: Int
    /// `json` (one object per line) or `text`.
    public var logFormat: String
    /// Enables the `debug_*` job options the crash tests use. Never set in production.
    public var testHooks: Bool
    /// Webhooks: the time one delivery attempt may take, the first retry's delay (doubling, at
    /// most an hour), how long a delivery is retried before it is given up.
    public var webhookTimeoutSeconds: Double
    public var webhookBackoffSeconds: Double
    public var webhookGiveUpSeconds: Double
    /// Lets callback URLs resolve to loopback addresses (the tests' receiver). Never in production.
    public var webhookAllowLoopback: Bool

    public init(environment env: [String: String] = ProcessInfo.processInfo.environment) {
        func int(_ key: String, _ fallback: Int) -> Int { env[key].flatMap { Int($0) } ?? fallback }
        func double(_ key: String, _ fallback: Double) -> Double { env[key].flatMap { Double($0) } ?? fallback }
        database = env["DOCFLOW_DATABASE"] ?? "dbname=docflow"
        storage = env["DOCFLOW_STORAGE"] ?? "var/storage"
        workDir = env["DOCFLOW_WORK_DIR"] ?? (storage.hasPrefix("s3://") ? "var/work" : storage)
        s3Endpoint = env["DOCFLOW_S3_ENDPOINT"] ?? ""
        s3Region = env["DOCFLOW_S3_REGION"] ?? "us-east-1"
        s3AccessKeyID = env["DOCFLOW_S3_ACCESS_KEY_ID"] ?? ""
        s3SecretAccessKey = Secret(env["DOCFLOW_S3_SECRET_ACCESS_KEY"] ?? "")
        s3CredentialsFile = env["DOCFLOW_S3_CREDENTIALS_FILE"] ?? ""
        quotaBytes = Int64(int("DOCFLOW_QUOTA_BYTES", 250 * 1024 * 1024))
        clientTTLSeconds = int("DOCFLOW_CLIENT_TTL_SECONDS", 24 * 3600)
        maxUploadBytes = Int64(int("DOCFLOW_MAX_UPLOAD_BYTES", 250 * 1024 * 1024))
        uploadSlotSeconds = max(1, int("DOCFLOW_UPLOAD_SLOT_SECONDS", 3600))
        incomingDir = env["DOCFLOW_INCOMING_DIR"] ?? "\(workDir)/incoming"
        jobTimeoutSeconds = double("DOCFLOW_JOB_TIMEOUT_SECONDS", 300)
        jobMemoryMB = int("DOCFLOW_JOB_MEMORY_MB", 4096)
        jobFileMB = max(1, int("DOCFLOW_JOB_FILE_MB", 1024))
        sandbox = env["DOCFLOW_SANDBOX"] ?? "bwrap"
        bwrap = env["DOCFLOW_BWRAP"] ?? "/usr/bin/bwrap"
        workerMaxJobs = max(1, int("DOCFLOW_WORKER_MAX_JOBS", 500))
        leaseSeconds = double("DOCFLOW_LEASE_SECONDS", 60)
        runnerSlots = max(1, int("DOCFLOW_RUNNER_SLOTS", 2))
        runnerBudgetSeconds = double("DOCFLOW_RUNNER_BUDGET_SECONDS", 58)
        runnerHandoffSeconds = max(0, double("DOCFLOW_RUNNER_HANDOFF_SECONDS", 150))
        runnerReconnectSeconds = max(1, double("DOCFLOW_RUNNER_RECONNECT_SECONDS", 600))
        maxAttempts = min(20, max(1, int("DOCFLOW_MAX_ATTEMPTS", 3)))
        retryBackoffSeconds = double("DOCFLOW_RETRY_BACKOFF_SECONDS", 5)
        fcgiSocket = env["DOCFLOW_FCGI_SOCKET"] ?? "var/run/fcgi.sock"
        fcgiThreads = max(1, int("DOCFLOW_FCGI_THREADS", 8))
        wsHost = env["DOCFLOW_WS_HOST"] ?? "127.0.0.1"
        wsPort = int("DOCFLOW_WS_PORT", 8091)
        logFormat = env["DOCFLOW_LOG_FORMAT"] ?? "json"
        testHooks = env["DOCFLOW_TEST_HOOKS"] == "1"
        webhookTimeoutSeconds = max(0.1, double("DOCFLOW_WEBHOOK_TIMEOUT_SECONDS", 10))
        webhookBackoffSeconds = max(0.01, double("DOCFLOW_WEBHOOK_BACKOFF_SECONDS", 10))
        webhookGiveUpSeconds = max(1, double("DOCFLOW_WEBHOOK_GIVE_UP_SECONDS", 24 * 3600))
        webhookAllowLoopback = env["DOCFLOW_WEBHOOK_ALLOW_LOOPBACK"] == "1"
    }
}

/// A credential: its text is never part of a description, a log line or an error.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
