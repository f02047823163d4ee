import Foundation

/// The anonymous client's identity: a UUIDv4 carried in the `client_id` cookie. fcgi-app and
/// ws-gateway both read it through here, so they agree on what counts as a client.
public enum ClientID {
    /// The cookie's name.
    public static let cookieName = "client_id"

    /// `raw` as a client id if it is a well-formed UUIDv4; anything else counts as absent.
    public static func parse(_ raw: String) -> UUID? {
        guard let id = UUID(uuidString: raw), isV4(id) else { return nil }
        return id
    }

    /// The `client_id` value of a Cookie header (`a=b; client_id=…`), if it is a UUIDv4.
    /// The first `client_id` decides: a malformed one is not skipped for a later one.
    public static func fromCookieHeader(_ header: String?) -> UUID? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == cookieName else { continue }
            return parse(kv[1].trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Version 4 (random) with the RFC 4122 variant bits.
    public static func isV4(_ id: UUID) -> Bool {
        let u = id.uuid
        return u.6 >> 4 == 4 && (u.8 & 0xC0) == 0x80
    }

    /// The Set-Cookie value for a new client: `maxAge` seconds, not renewed, HttpOnly, SameSite=Lax.
    public static func setCookie(_ id: UUID, maxAge: Int, secure: Bool) -> String {
        "\(cookieName)=\(id.uuidString.lowercased()); Max-Age=\(maxAge); Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }
}
