import Foundation

/// The storage layout. Object keys are built from UUIDs and a whitelisted extension, never from
/// user input: `input/{client}/{job}.{ext}`, `output/{client}/{job}-a{attempt}.{ext}` (on either
/// backend, `ObjectStore`). This host's work folder holds `tmp/{job}-{tag}.part` for uploads and
/// `scratch/` for converters.
/// Outputs are named per attempt, so a runner that lost its job (and is refused at finish)
/// removes only its own file, never the one of the attempt that won.
public struct Storage: Sendable {
    /// The work folder (`DOCFLOW_WORK_DIR`): on the local backend the storage root itself.
    public let root: String
    /// Whether the objects live below `root` too (the local backend).
    public let local: Bool

    public init(root: String, local: Bool = true) {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
        self.local = local
    }

    /// This host's work folder as the configuration says (the storage root on the local backend).
    public init(config: Config) {
        self.init(root: config.workDir, local: config.s3Bucket == nil)
    }

    /// Where nginx writes a direct upload's body on the local backend (a name made from the
    /// upload's UUID only).
    public static func incomingPath(_ config: Config, upload: UUID) -> String {
        "\(config.incomingDir)/\(upload.uuidString.lowercased())"
    }

    /// The key prefixes of everything a client owns.
    public static func clientPrefixes(_ client: UUID) -> [String] {
        let id = client.uuidString.lowercased()
        return ["input/\(id)/", "output/\(id)/"]
    }

    /// Creates `tmp/` and `scratch/` (converters' own folders, `sbx-{uuid}`), and on the local
    /// backend `input/` and `output/`.
    public func prepare() throws {
        for dir in (local ? ["input", "output"] : []) + ["tmp", "scratch"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
    }

    /// Relative path of a job's input file.
    public static func inputPath(client: UUID, job: UUID, ext: String) -> String {
        "input/\(client.uuidString.lowercased())/\(job.uuidString.lowercased()).\(safe(ext))"
    }

    /// Relative path of the output of one attempt of a job.
    public static func outputPath(client: UUID, job: UUID, attempt: Int, ext: String) -> String {
        "output/\(client.uuidString.lowercased())/\(job.uuidString.lowercased())-a\(attempt).\(safe(ext))"
    }

    /// A fresh temporary path for work on a job; renamed into place when complete.
    public static func tmpPath(job: UUID, tag: String) -> String {
        "tmp/\(job.uuidString.lowercased())-\(safe(tag)).part"
    }

    private static func safe(_ s: String) -> String {
        let ok = s.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }
        precondition(ok && !s.isEmpty && s.count <= 16, "storage names come from whitelists only")
        return s
    }

    /// Absolute path of a relative storage path.
    public func absolute(_ relative: String) -> String { "\(root)/\(relative)" }

    /// Writes every byte to a file descriptor; false on an error, with errno set (`FileSink.writeAll`).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        FileSink.writeAll(fd, bytes)
    }

    /// Removes a file of the work folder if it exists; missing files are fine (cleanup is idempotent).
    public func remove(_ relative: String?) {
        guard let relative, !relative.isEmpty else { return }
        unlink(absolute(relative))
    }
}
