import Foundation

/// The file layout under the storage root. Every path is built from UUIDs and a whitelisted
/// extension, never from user input:
/// `input/{client}/{job}.{ext}`, `output/{client}/{job}-a{attempt}.{ext}` (written as `….part`
/// beside it first), `tmp/{job}-{tag}.part` for uploads.
/// Outputs are named per attempt, so a runner that lost its job (and is refused at finish)
/// removes only its own file, never the one of the attempt that won.
public struct Storage: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// Creates `input/`, `output/`, `tmp/` and `scratch/` (converters' own folders, `sbx-{uuid}`).
    public func prepare() throws {
        for dir in ["input", "output", "tmp", "scratch"] {
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

    /// Moves a finished temporary file into place (`rename`, atomic within one filesystem),
    /// creating the client's directory when needed.
    public func commit(tmp: String, to relative: String) throws {
        let dest = absolute(relative)
        if rename(absolute(tmp), dest) == 0 { return }
        if errno == ENOENT {  // the client's folder does not exist yet
            let dir = (dest as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        guard rename(absolute(tmp), dest) == 0 else {
            throw StorageError("A file could not be stored.", cause: "rename \(tmp) -> \(relative): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a file whole or not at all (`AtomicFile`, under the storage root, mode 0640).
    public func writeAtomically(to relative: String, _ body: (ByteSink) throws -> Void) throws {
        try AtomicFile.write(to: absolute(relative), body)
    }

    /// Creates (or truncates) `{relative}.part`, mode 0640, creating the folder when needed; the
    /// descriptor is the caller's to close. Throws `SinkError`.
    public func openPart(for relative: String) throws -> Int32 { try AtomicFile.openPart(for: absolute(relative)) }

    /// Renames `{relative}.part` to `relative` (the output is whole). Throws `SinkError`.
    public func commitPart(for relative: String) throws { try AtomicFile.commitPart(for: absolute(relative)) }

    /// Removes `{relative}.part` (the conversion failed).
    public func discardPart(for relative: String) { AtomicFile.discardPart(for: absolute(relative)) }

    /// Writes every byte to a file descriptor; false on an error, with errno set (`FileSink.writeAll`).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        FileSink.writeAll(fd, bytes)
    }

    /// Removes a file if it exists; missing files are fine (cleanup is idempotent).
    public func remove(_ relative: String?) {
        guard let relative, !relative.isEmpty else { return }
        unlink(absolute(relative))
    }

    /// Removes everything a client owns on disk.
    public func removeClient(_ client: UUID) {
        let id = client.uuidString.lowercased()
        for dir in ["input", "output"] { try? FileManager.default.removeItem(atPath: "\(root)/\(dir)/\(id)") }
    }
}
