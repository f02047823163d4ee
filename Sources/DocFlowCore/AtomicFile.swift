import Foundation

/// A file written whole or not at all: the bytes go to `{path}.part` in the same folder, which is
/// renamed to `path` once complete (`rename` is atomic within one filesystem). Not fsynced: a
/// crash never leaves a partial file under the final name, only a `.part` (an orphan the janitor
/// removes from storage). Used by `Storage` for outputs and by the CLI for its output file.
public enum AtomicFile {
    /// Writes `path` through `body`; whatever `body` throws (or a failed write, as `SinkError`)
    /// removes the part file and is rethrown: nothing is left half-written under either name.
    public static func write(to path: String, mode: mode_t = 0o640, createFolder: Bool = true, _ body: (ByteSink) throws -> Void) throws {
        let fd = try openPart(for: path, mode: mode, createFolder: createFolder)
        let sink = FileSink(fd: fd)
        do {
            try body(sink)
            try sink.finish()
        } catch {
            try? sink.finish()  // nothing may still be writing to the descriptor once it is closed
            close(fd)
            discardPart(for: path)
            throw error
        }
        guard close(fd) == 0 else {
            let e = errno
            discardPart(for: path)
            throw SinkError(errno: e)
        }
        try commitPart(for: path)
    }

    /// Creates (or truncates) `{path}.part`, creating the folder when needed (and `createFolder`);
    /// the descriptor is the caller's to close. Throws `SinkError`.
    public static func openPart(for path: String, mode: mode_t = 0o640, createFolder: Bool = true) throws -> Int32 {
        let part = path + ".part"
        var fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 && errno == ENOENT && createFolder {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        }
        guard fd >= 0 else { throw SinkError(errno: errno) }
        return fd
    }

    /// Renames `{path}.part` to `path` (the output is whole). Throws `SinkError`.
    public static func commitPart(for path: String) throws {
        guard rename(path + ".part", path) == 0 else {
            let e = errno
            unlink(path + ".part")
            throw SinkError(errno: e)
        }
    }

    /// Removes `{path}.part` (the write failed).
    public static func discardPart(for path: String) {
        unlink(path + ".part")
    }
}
