import Foundation

/// The anonymous client behind a request: a UUIDv4 from the `client_id` cookie.
enum Identity {
    /// The cookie's client id if it is a well-formed UUIDv4; anything else counts as absent.
    static func clientID(_ req: Request) -> UUID? {
        guard let raw = req.cookie("client_id"), let id = UUID(uuidString: raw), isV4(id) else { return nil }
        return id
    }

    static func isV4(_ id: UUID) -> Bool {
        let u = id.uuid
        return u.6 >> 4 == 4 && (u.8 & 0xC0) == 0x80
    }

    /// The Set-Cookie value for a new client: 24 h, not renewed, HttpOnly, SameSite=Lax.
    static func cookie(_ id: UUID, maxAge: Int, secure: Bool) -> String {
        "client_id=\(id.uuidString.lowercased()); Max-Age=\(maxAge); Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// A job id from a path segment (any malformed id is simply not found).
    static func jobID(_ s: String) throws -> UUID {
        guard let id = UUID(uuidString: s) else { throw APIError.notFound }
        return id
    }
}
