import CLibPQ
import Foundation

/// A PostgreSQL notification received on a LISTEN channel.
public struct PGNotification: Sendable {
    public let channel: String
    public let payload: String
}

/// One libpq connection. Not thread-safe: one per thread. Statements are prepared once per
/// connection and reused. `close()` or `deinit` calls `PQfinish`.
public final class PGConnection {
    private var conn: OpaquePointer?
    private var prepared: [String: String] = [:]

    /// Connects with a libpq connection string; throws `StoreError.unavailable` when it cannot.
    public init(_ conninfo: String) throws {
        let c = PQconnectdb(conninfo)
        guard let c, PQstatus(c) == CONNECTION_OK else {
            let message = c.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(c)
            throw StoreError(.unavailable, "The database is unavailable.", cause: message)
        }
        conn = c
        try execute("SET TIME ZONE 'UTC'")
    }

    deinit { close() }

    /// Closes the connection (`PQfinish`); later calls throw `unavailable`.
    public func close() {
        if let c = conn { PQfinish(c) }
        conn = nil
    }

    /// Whether the connection is still usable. An idle connection whose server went away (a
    /// restart, an administrator's terminate) still reports CONNECTION_OK until it is read, so
    /// pending input on the socket is consumed first: the server's goodbye or EOF marks it bad, and
    /// the caller reconnects instead of failing its next request.
    public var isHealthy: Bool {
        guard let c = conn, PQstatus(c) == CONNECTION_OK else { return false }
        var fd = pollfd(fd: PQsocket(c), events: Int16(POLLIN), revents: 0)
        for _ in 0..<4 where poll(&fd, 1, 0) > 0 {  // the goodbye message, then EOF
            if PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK { return false }
        }
        return PQstatus(c) == CONNECTION_OK
    }

    /// The socket, for `poll` while waiting for notifications.
    public var socket: Int32 { conn.map { PQsocket($0) } ?? -1 }

    /// Runs one parameterised statement (`PQprepare` on first use, then `PQexecPrepared`).
    @discardableResult
    public func query(_ q: Query) throws -> PGResult {
        guard let c = conn else { throw StoreError(.unavailable, "The database is unavailable.", cause: "connection closed") }
        let name: String
        if let n = prepared[q.sql] {
            name = n
        } else {
            name = "s\(prepared.count)"
            let r = PQprepare(c, name, q.sql, 0, nil)
            PQclear(try check(r, sql: q.sql))
            prepared[q.sql] = name
        }
        let values: [UnsafeMutablePointer<CChar>?] = q.binds.map { b in b.flatMap { strdup($0) } }
        defer { values.forEach { free($0) } }
        let r = values.map { $0.map { UnsafePointer<CChar>($0) } }.withUnsafeBufferPointer { buf in
            PQexecPrepared(c, name, Int32(buf.count), buf.baseAddress, nil, nil, 0)
        }
        return try PGResult(check(r, sql: q.sql))
    }

    /// Runs SQL text without parameters (`PQexec`); may hold several statements (migrations).
    @discardableResult
    public func execute(_ sql: String) throws -> PGResult {
        guard let c = conn else { throw StoreError(.unavailable, "The database is unavailable.", cause: "connection closed") }
        return try PGResult(check(PQexec(c, sql), sql: sql))
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Starts listening on a channel (`LISTEN`; the name is an identifier, quoted here).
    public func listen(_ channel: String) throws {
        precondition(channel.allSatisfy { $0.isLetter || $0 == "_" }, "channel names are fixed identifiers")
        try execute("LISTEN \"\(channel)\"")
    }

    /// Stops listening on a channel (`UNLISTEN`).
    public func unlisten(_ channel: String) throws {
        precondition(channel.allSatisfy { $0.isLetter || $0 == "_" }, "channel names are fixed identifiers")
        try execute("UNLISTEN \"\(channel)\"")
    }

    /// Waits up to `timeout` seconds for notifications (`poll` + `PQconsumeInput` + `PQnotifies`).
    /// Returns at once when some are already queued.
    public func notifications(timeout: Double) throws -> [PGNotification] {
        guard let c = conn else { throw StoreError(.unavailable, "The database is unavailable.", cause: "connection closed") }
        var out = drain(c)
        if !out.isEmpty { return out }
        var pfd = pollfd(fd: PQsocket(c), events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(timeout, 3600)) * 1000)
        let n = poll(&pfd, 1, ms)
        if n < 0 && errno != EINTR {
            throw StoreError(.unavailable, "The database is unavailable.", cause: "poll: \(String(cString: strerror(errno)))")
        }
        if n > 0 {
            guard PQconsumeInput(c) == 1 else {
                throw StoreError(.unavailable, "The database is unavailable.", cause: String(cString: PQerrorMessage(c)))
            }
            out = drain(c)
        }
        return out
    }

    private func drain(_ c: OpaquePointer) -> [PGNotification] {
        var out: [PGNotification] = []
        while let n = PQnotifies(c) {
            out.append(PGNotification(channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    /// The one place that checks libpq result codes and throws.
    private func check(_ r: OpaquePointer?, sql: String) throws -> OpaquePointer {
        guard let r else {
            let message = conn.map { String(cString: PQerrorMessage($0)) } ?? ""
            throw StoreError(.unavailable, "The database is unavailable.", cause: message)
        }
        switch PQresultStatus(r) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return r
        default:
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = String(cString: PQresultErrorMessage(r))
            PQclear(r)
            if let c = conn, PQstatus(c) != CONNECTION_OK {
                throw StoreError(.unavailable, "The database is unavailable.", cause: message)
            }
            throw StoreError(.query, "A database statement failed.", sqlState: state, cause: message + " in: " + sql)
        }
    }
}
