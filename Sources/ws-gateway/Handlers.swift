import DocFlowCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// One WebSocket connection: joins its client's room, answers pings and closes, sends a
/// `{"type": "connected"}` greeting so a client knows events will reach it from now on.
final class WebSocketSession: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let client: String?
    let hub: Hub
    private var closing = false

    init(client: String?, hub: Hub) {
        self.client = client
        self.hub = hub
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let client { hub.join(client, context.channel) }
        let hello = "{\"type\": \"connected\", \"client\": \(client != nil)}"
        var buffer = context.channel.allocator.buffer(capacity: hello.utf8.count)
        buffer.writeString(hello)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let client { hub.leave(client, context.channel) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            var frameData = frame.data
            if let key = frame.maskKey { frameData.webSocketUnmask(key) }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frameData)), promise: nil)
        case .connectionClose:
            guard !closing else { context.close(promise: nil); return }
            closing = true
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.write(webSocketErrorCode: code)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break  // clients have nothing to say; events flow one way
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Plain HTTP on the gateway's port: `GET /health` for checks, `GET /metrics` for Prometheus
/// (from loopback only, like fcgi-app's), 426 for anything else.
/// Unchecked Sendable: it has no state, and the upgrade completion that removes it runs on the
/// channel's event loop.
final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let hub: Hub

    init(hub: Hub) { self.hub = hub }

    /// Whether the peer is 127.0.0.1 or ::1 (nginx's rule for fcgi-app's `/metrics`).
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip == "127.0.0.1" || ip == "::1" || ip == "::ffff:127.0.0.1"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        if head.uri == "/metrics", head.method == .GET, Self.isLoopback(context.channel.remoteAddress) {
            respond(context, head, .ok, hub.metricsText(), contentType: PromText.contentType)
            return
        }
        let ok = head.uri == "/health"
        // An upgrade that reaches this handler was refused (no client cookie, another origin, or
        // the client's socket cap).
        let refused = head.headers.first(name: "upgrade")?.lowercased() == "websocket"
        let status: HTTPResponseStatus = ok ? .ok : refused ? .forbidden : .upgradeRequired
        let body = ok ? "{\"status\": \"ok\"}\n"
            : refused ? "{\"error\": {\"code\": \"forbidden\", \"message\": \"A socket needs a client cookie, this site's Origin, and at most \(Hub.maxSocketsPerClient) open per client.\"}}\n"
            : "{\"error\": {\"code\": \"upgrade_required\", \"message\": \"Connect with a WebSocket.\"}}\n"
        respond(context, head, status, body, contentType: "application/json")
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: String, contentType: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
