/// The states of a job: the one list, the same as the database's `job_status` enum
/// (`Migrations/m0001_schema.sql`; a unit test holds the two equal). The transitions are the
/// README's table (the queue's states and transitions).
public enum JobStatus: String, CaseIterable, Sendable {
    /// Waiting for a runner (`run_after` may hold it back after a failed attempt).
    case pending = "PENDING"
    /// Claimed by a runner: it holds the job's lock and renews the lease.
    case processing = "PROCESSING"
    /// Converted: the output is stored and charged to the quota.
    case done = "DONE"
    /// Failed for good, with an error code and a readable reason.
    case failed = "FAILED"
    /// Canceled by its client before it ended (kept as a record).
    case canceled = "CANCELED"

    /// Whether the job has ended (nothing will change it but a retry or a delete).
    public var isFinal: Bool { self == .done || self == .failed || self == .canceled }
}
