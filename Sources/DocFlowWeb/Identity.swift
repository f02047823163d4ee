import DocFlowCore
import Foundation

/// The anonymous client behind a request (`ClientID`, shared with ws-gateway) and job ids from paths.
enum Identity {
    /// The cookie's client id if it is a well-formed UUIDv4; anything else counts as absent.
    static func clientID(_ req: Request) -> UUID? { ClientID.fromCookieHeader(req.headers["cookie"]) }

    /// A job id from a path segment (any malformed id is simply not found).
    static func jobID(_ s: String) throws -> UUID {
        guard let id = UUID(uuidString: s) else { throw APIError.notFound }
        return id
    }
}
