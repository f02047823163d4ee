import DocFlowCore
import Foundation
import NIOCore
import NIOWebSocket

/// Rooms of WebSocket channels keyed by client id. Written from event loops and read by the
/// notification thread, hence the lock; `Channel.writeAndFlush` may be called from any thread.
final class Hub: @unchecked Sendable {
    private let lock = NSLock()
    private var rooms: [String: [ObjectIdentifier: Channel]] = [:]
    private(set) var connections = 0
    /// Since start, for `/metrics`: sockets opened, notifications heard, frames sent, database links lost.
    private var opened = 0, heard = 0, sent = 0, linksLost = 0

    /// A well-formed UUIDv4 from a Cookie header, lower case; nil otherwise (`ClientID`, as fcgi-app reads it).
    static func clientID(cookieHeader: String) -> String? {
        ClientID.fromCookieHeader(cookieHeader)?.uuidString.lowercased()
    }

    /// Open sockets one client may have (tabs); nginx allows the same per cookie.
    static let maxSocketsPerClient = 8

    /// Whether an upgrade's Origin names the host it was sent to (`http(s)://` + the Host header).
    static func isSameOrigin(origin: String?, host: String?) -> Bool {
        guard let origin, let host, !host.isEmpty else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Sockets a client has open now.
    func count(_ client: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return rooms[client]?.count ?? 0
    }

    func join(_ client: String, _ channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        rooms[client, default: [:]][ObjectIdentifier(channel)] = channel
        connections += 1
        opened += 1
    }

    func leave(_ client: String, _ channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        guard rooms[client]?.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        if rooms[client]?.isEmpty == true { rooms[client] = nil }
        connections -= 1
    }

    /// Sends a text frame to every connection of a client; returns how many.
    @discardableResult
    func publish(client: String, text: String) -> Int {
        lock.lock()
        let targets = rooms[client].map { Array($0.values) } ?? []
        heard += 1
        sent += targets.count
        lock.unlock()
        for channel in targets {
            var buffer = channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
        }
        return targets.count
    }

    /// Closes every connection (the database link was lost: clients reconnect and re-read).
    func dropAll() {
        lock.lock()
        let all = rooms.values.flatMap { $0.values }
        linksLost += 1
        lock.unlock()
        for channel in all { channel.close(promise: nil) }
    }

    /// The gateway's figures in the Prometheus text format.
    func metricsText() -> String {
        lock.lock(); defer { lock.unlock() }
        var out = PromText()
        out.values("docflow_ws_connections", "gauge", "WebSocket connections open on this gateway.", [([], Double(connections))])
        out.values("docflow_ws_connections_total", "counter", "WebSocket connections this gateway accepted.", [([], Double(opened))])
        out.values("docflow_ws_notifications_total", "counter", "Job events this gateway heard from PostgreSQL.", [([], Double(heard))])
        out.values("docflow_ws_events_sent_total", "counter", "Event frames this gateway sent to sockets.", [([], Double(sent))])
        out.values("docflow_ws_database_links_lost_total", "counter", "Times the LISTEN connection was lost (every socket closed).",
                   [([], Double(linksLost))])
        return out.text
    }
}
