/// Why a conversion failed. `message` is safe to show a client; `cause` holds details for logs.
public struct ConversionError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// Stable machine-readable code.
    public enum Code: String, Sendable {
        case unknownFormat = "unknown_format"
        case unsupportedConversion = "unsupported_conversion"
        case malformedInput = "malformed_input"
        case encoding = "encoding"
        case tooLarge = "too_large"
        case badOptions = "bad_options"
        case `internal` = "internal"
    }

    public var code: Code
    public var message: String
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
    public var debugDescription: String { "ConversionError(\(code.rawValue)): \(message)" + (cause.map { " [\($0)]" } ?? "") }
}
