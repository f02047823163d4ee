// ws-gateway: relays PostgreSQL notifications (docflow_events) to the WebSocket connections of
// the client they concern. One LISTEN connection, rooms keyed by the client_id cookie.
import DocFlowCore
import DocFlowStore
import DocFlowTelemetry
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

let config = Config()
JSONLogHandler.bootstrap(config)
let logger = Logger(label: "docflow.ws")
let telemetry = Telemetry.start(service: "docflow-ws-gateway", logger: logger)
let hub = Hub()

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let upgrader = NIOWebSocketServerUpgrader(
    maxFrameSize: 1 << 16,
    // nginx checks the same (connection-limits-zone.conf); the gateway does not rely on it.
    shouldUpgrade: { channel, head in
        let client = Hub.clientID(cookieHeader: head.headers["cookie"].joined(separator: "; "))
        guard let client, Hub.isSameOrigin(origin: head.headers.first(name: "origin"), host: head.headers.first(name: "host")),
              hub.count(client) < Hub.maxSocketsPerClient else {
            return channel.eventLoop.makeSucceededFuture(nil)  // PlainHTTPHandler answers 403
        }
        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
    },
    upgradePipelineHandler: { channel, head in
        let client = Hub.clientID(cookieHeader: head.headers["cookie"].joined(separator: "; "))
        return channel.pipeline.addHandler(WebSocketSession(client: client, hub: hub))
    })

let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 512)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    // TCP_NODELAY is a TCP-level option: as a socket-level one it is SO_DEBUG (1), which only root
    // may set — as the unprivileged user every accepted connection failed.
    .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        let plain = PlainHTTPHandler(hub: hub)
        let upgrade: NIOHTTPServerUpgradeConfiguration = (upgraders: [upgrader], completionHandler: { _ in
            channel.pipeline.removeHandler(plain, promise: nil)
        })
        return channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: upgrade).flatMap {
            channel.pipeline.addHandler(plain)
        }
    }

signal(SIGPIPE, SIG_IGN)
let listener = Thread { NotificationRelay(config: config, hub: hub, logger: logger).run() }
listener.start()

do {
    let channel = try bootstrap.bind(host: config.wsHost, port: config.wsPort).wait()
    logger.info("ws-gateway listening", metadata: ["docflow.ws.address": "\(config.wsHost):\(config.wsPort)"])
    let stop = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
    signal(SIGTERM, SIG_IGN)
    stop.setEventHandler { channel.close(promise: nil) }
    stop.resume()
    try channel.closeFuture.wait()
    try group.syncShutdownGracefully()
    telemetry?.shutdown()
    logger.info("ws-gateway stopped")
} catch {
    logger.critical("ws-gateway failed", metadata: ["docflow.error": "\(error)"])
    exit(1)
}
