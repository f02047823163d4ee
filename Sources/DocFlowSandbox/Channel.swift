import Foundation

/// The runner ↔ converter link: a Unix stream socket carrying frames
/// `[length: UInt32 LE][type: UInt8][payload]`, with file descriptors passed alongside a frame
/// (`SCM_RIGHTS`), so the sandboxed converter opens no path of the storage at all.
public final class Channel: @unchecked Sendable {
    // @unchecked: `send` is serialised by `lock` (progress may come from a converter's threads);
    // `receive` is only ever called from one thread per side.
    public let fd: Int32
    private let lock = NSLock()

    public init(fd: Int32) { self.fd = fd }

    /// A connected pair (`socketpair(AF_UNIX, SOCK_STREAM)`), both ends close-on-exec.
    public static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SandboxError("socketpair failed: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// The largest frame either side accepts (metadata of a 20,000-column table fits many times).
    public static let maxFrame = 64 << 20

    /// Sends one frame, with `fds` attached to its first byte. False when the peer is gone.
    @discardableResult
    public func send(_ type: UInt8, _ payload: [UInt8] = [], fds: [Int32] = []) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let n = UInt32(payload.count + 1)
        var frame: [UInt8] = [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24), type]
        frame += payload
        var sent = 0
        if !fds.isEmpty {
            let space = Self.controlSpace(fds.count)
            var control = [UInt8](repeating: 0, count: space)
            let r: Int = frame.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { ctl in
                    let hdr = ctl.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                    hdr.pointee.cmsg_len = Self.headerSize + fds.count * 4
                    hdr.pointee.cmsg_level = SOL_SOCKET
                    hdr.pointee.cmsg_type = Int32(SCM_RIGHTS)
                    fds.withUnsafeBytes { ctl.baseAddress!.advanced(by: Self.headerSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    return Self.withMessage(data, ctl) { msg in
                        var r: Int
                        repeat { r = sendmsg(fd, &msg, Int32(MSG_NOSIGNAL)) } while r < 0 && errno == EINTR
                        return r
                    }
                }
            }
            guard r > 0 else { return false }
            sent = r
        }
        while sent < frame.count {
            let r = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return false }
            sent += r
        }
        return true
    }

    /// The next frame, with any descriptors that came with it; nil when the peer closed or died
    /// (or sent something that is not a frame).
    public func receive() -> (type: UInt8, payload: [UInt8], fds: [Int32])? {
        var header = [UInt8](repeating: 0, count: 5)
        var fds: [Int32] = []
        let space = Self.controlSpace(4)
        var control = [UInt8](repeating: 0, count: space)
        let first: Int = header.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                Self.withMessage(data, ctl) { msg in
                    var r: Int
                    repeat { r = recvmsg(fd, &msg, Int32(MSG_CMSG_CLOEXEC)) } while r < 0 && errno == EINTR
                    if r > 0, msg.msg_controllen >= Self.headerSize {
                        let hdr = ctl.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                        if hdr.pointee.cmsg_level == SOL_SOCKET, hdr.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                            let count = (hdr.pointee.cmsg_len - Self.headerSize) / 4
                            let p = ctl.baseAddress!.advanced(by: Self.headerSize)
                            for i in 0..<count { fds.append(p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
                        }
                    }
                    return r
                }
            }
        }
        guard first > 0, readFully(&header, from: first) else { fds.forEach { _ = Glibc.close($0) }; return nil }
        let n = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
        guard n >= 1, n <= Self.maxFrame else { fds.forEach { _ = Glibc.close($0) }; return nil }
        var payload = [UInt8](repeating: 0, count: n - 1)
        guard readFully(&payload, from: 0) else { fds.forEach { _ = Glibc.close($0) }; return nil }
        return (header[4], payload, fds)
    }

    /// A `msghdr` over one data buffer and one control buffer, for `sendmsg` and `recvmsg`.
    private static func withMessage(_ data: UnsafeMutableRawBufferPointer, _ control: UnsafeMutableRawBufferPointer,
                                    _ body: (inout msghdr) -> Int) -> Int {
        var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
        return withUnsafeMutablePointer(to: &iov) { iovp in
            var msg = msghdr(msg_name: nil, msg_namelen: 0, msg_iov: iovp, msg_iovlen: 1,
                             msg_control: control.baseAddress, msg_controllen: control.count, msg_flags: 0)
            return body(&msg)
        }
    }

    private func readFully(_ buf: inout [UInt8], from start: Int) -> Bool {
        var off = start
        while off < buf.count {
            let r = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + off, $0.count - off) }
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return false }
            off += r
        }
        return true
    }

    private var closed = false
    private let closing = NSLock()  // not `lock`: a close must not wait for a send blocked on a stuck peer

    /// Closes the socket, once: a second close would close whatever descriptor took its number
    /// meanwhile (another thread's file — a test's deferred close did exactly that).
    public func close() {
        closing.lock(); defer { closing.unlock() }
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    /// `CMSG_LEN(0)` and `CMSG_SPACE(4 n)` (macros, not imported into Swift).
    static let headerSize = (MemoryLayout<cmsghdr>.size + 7) & ~7
    static func controlSpace(_ fds: Int) -> Int { headerSize + ((fds * 4 + 7) & ~7) }
}

/// A sandbox that cannot be set up or a worker that misbehaved, for the runner's log.
public struct SandboxError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Channel {
    /// Frame types.
    public enum Frame {
        /// worker → runner: set up, limits applied, waiting for a job.
        public static let ready: UInt8 = 0x52       // R
        /// runner → worker: a job (`JobRequest` as JSON) with [input, output] descriptors.
        public static let job: UInt8 = 0x4a         // J
        /// worker → runner: progress, "percent\tstep".
        public static let progress: UInt8 = 0x50    // P
        /// worker → runner: converted (`JobResult.done`).
        public static let done: UInt8 = 0x44        // D
        /// worker → runner: not converted (`JobResult.failed`).
        public static let failed: UInt8 = 0x46      // F
    }
}
