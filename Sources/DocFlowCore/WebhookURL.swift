import Foundation

/// A callback URL checked against server-side request forgery: http or https only, no user
/// info, and a host whose every address is public — never loopback, private (RFC 1918, ULA),
/// link-local (which holds the cloud metadata service, 169.254.169.254), CGNAT, multicast,
/// unspecified or reserved ones. Checked at upload (fcgi-app) and again before each delivery (the
/// sender then connects to the address it checked: a name that resolves elsewhere later, DNS
/// rebinding, gains nothing).
public struct WebhookURL: Sendable, Equatable {
    public let url: String
    public let scheme: String
    public let host: String
    public let port: Int

    /// Why a URL is refused, in words a client can act on.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Parses and checks the URL's form (no DNS).
    public init(_ text: String) throws {
        guard text.utf8.count <= 2048, let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = c.host, !host.isEmpty else {
            throw Refusal(message: "callback_url must be an http or https URL of at most 2048 characters.")
        }
        guard c.user == nil, c.password == nil else { throw Refusal(message: "callback_url must not carry a user name or password.") }
        guard c.fragment == nil else { throw Refusal(message: "callback_url must not have a fragment.") }
        let port = c.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw Refusal(message: "callback_url has an invalid port.") }
        url = text
        self.scheme = scheme
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
    }

    /// Resolves the host and returns the address to connect to (the first one), after checking
    /// every address it has; throws a `Refusal` naming the first address that is not allowed.
    public func resolve(allowLoopback: Bool = false) throws -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw Refusal(message: "callback_url's host \(host) does not resolve.") }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(a.pointee.ai_addr, a.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: buf))
            }
            p = a.pointee.ai_next
        }
        guard let chosen = addresses.first else { throw Refusal(message: "callback_url's host \(host) does not resolve.") }
        for a in addresses where !Self.isAllowed(a, allowLoopback: allowLoopback) {
            throw Refusal(message: "callback_url's host \(host) resolves to \(a), a loopback, private, link-local or reserved address.")
        }
        return chosen
    }

    /// Whether a numeric address may be called back.
    public static func isAllowed(_ address: String, allowLoopback: Bool = false) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return isAllowedV4(UInt32(bigEndian: v4.s_addr), allowLoopback: allowLoopback) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
        let b = withUnsafeBytes(of: &v6) { Array($0) }
        // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible): the IPv4 rules.
        if b[0..<10].allSatisfy({ $0 == 0 }) && ((b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0 && b[12...].contains { $0 != 0 })) {
            let v = UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])
            if b[10] == 0xFF || v > 1 { return isAllowedV4(v, allowLoopback: allowLoopback) }
        }
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? allowLoopback : false }  // ::1, ::
        if b[0] & 0xFE == 0xFC { return false }                    // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return false }    // fe80::/10 link-local
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return false }    // fec0::/10 site-local (deprecated)
        if b[0] == 0xFF { return false }                           // multicast
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return false }  // 2001:db8::/32 documentation
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B { return false }  // 64:ff9b::/96 NAT64 (reaches IPv4 inside)
        return true
    }

    private static func isAllowedV4(_ a: UInt32, allowLoopback: Bool) -> Bool {
        func within(_ net: UInt32, _ bits: UInt32) -> Bool { bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits)) }
        if within(0x7F00_0000, 8) { return allowLoopback }          // 127.0.0.0/8
        let refused: [(UInt32, UInt32)] = [
            (0x0000_0000, 8),   // 0.0.0.0/8 "this network"
            (0x0A00_0000, 8),   // 10.0.0.0/8
            (0x6440_0000, 10),  // 100.64.0.0/10 CGNAT
            (0xA9FE_0000, 16),  // 169.254.0.0/16 link-local, the metadata service
            (0xAC10_0000, 12),  // 172.16.0.0/12
            (0xC000_0000, 24),  // 192.0.0.0/24 IETF protocol assignments
            (0xC000_0200, 24),  // 192.0.2.0/24 documentation
            (0xC0A8_0000, 16),  // 192.168.0.0/16
            (0xC612_0000, 15),  // 198.18.0.0/15 benchmarking
            (0xC633_6400, 24),  // 198.51.100.0/24 documentation
            (0xCB00_7100, 24),  // 203.0.113.0/24 documentation
            (0xE000_0000, 4),   // 224.0.0.0/4 multicast
            (0xF000_0000, 4),   // 240.0.0.0/4 reserved, broadcast
        ]
        return !refused.contains { within($0.0, $0.1) }
    }
}
