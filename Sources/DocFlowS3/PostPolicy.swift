import DocFlowCore
import DocFlowCrypto
import Foundation

/// A browser-based upload to S3 with a POST policy
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html): the policy
/// document (its expiry and conditions), base64, signed with the SigV4 signing key; the form then
/// carries the fields and the file, and the store refuses anything the conditions do not allow.
/// The document is written as botocore writes it (the same conditions in the same order, JSON
/// with `, ` and `: `, non-ASCII escaped), so the two give the same form for the same inputs.
public struct PostPolicy: Sendable {
    /// One condition of the policy.
    public enum Condition: Sendable {
        /// `{"name": "value"}`: the field must be exactly this.
        case equals(String, String)
        /// `["starts-with", "$name", "prefix"]`.
        case startsWith(String, String)
        /// `["content-length-range", min, max]`: the file's size in bytes.
        case contentLengthRange(Int64, Int64)
    }

    public let bucket: String
    public let key: String
    public let expiration: Date
    /// The caller's conditions; the bucket, the key and the SigV4 fields are added to them.
    public let conditions: [Condition]
    /// Fields the form carries besides the key and the signature (`Content-Type`…).
    public let fields: [(name: String, value: String)]

    public init(bucket: String, key: String, expiration: Date, conditions: [Condition] = [], fields: [(name: String, value: String)] = []) {
        self.bucket = bucket
        self.key = key
        self.expiration = expiration
        self.conditions = conditions
        self.fields = fields
    }

    /// The policy document (JSON text).
    public func document(signer: SigV4, date: Date) -> String {
        let (amzDate, day) = SigV4.timestamps(date)
        var all: [String] = conditions.map { c in
            switch c {
            case .equals(let name, let value): return "{\(Self.json(name)): \(Self.json(value))}"
            case .startsWith(let name, let prefix): return "[\"starts-with\", \(Self.json("$" + name)), \(Self.json(prefix))]"
            case .contentLengthRange(let lo, let hi): return "[\"content-length-range\", \(lo), \(hi)]"
            }
        }
        all += ["{\"bucket\": \(Self.json(bucket))}", "{\"key\": \(Self.json(key))}",
                "{\"x-amz-algorithm\": \"\(SigV4.algorithm)\"}",
                "{\"x-amz-credential\": \(Self.json("\(signer.credentials.accessKeyID)/\(signer.scope(day: day))"))}",
                "{\"x-amz-date\": \"\(amzDate)\"}"]
        if let token = signer.credentials.sessionToken { all.append("{\"x-amz-security-token\": \(Self.json(token))}") }
        return "{\"expiration\": \"\(Self.iso8601(expiration))\", \"conditions\": [\(all.joined(separator: ", "))]}"
    }

    /// The form fields, in order (the file goes after them): the caller's, `key`, the SigV4 fields,
    /// `policy` and `x-amz-signature`.
    public func formFields(signer: SigV4, date: Date) -> [(name: String, value: String)] {
        let (amzDate, day) = SigV4.timestamps(date)
        var out = fields + [("key", key), ("x-amz-algorithm", SigV4.algorithm),
                            ("x-amz-credential", "\(signer.credentials.accessKeyID)/\(signer.scope(day: day))"), ("x-amz-date", amzDate)]
        if let token = signer.credentials.sessionToken { out.append(("x-amz-security-token", token)) }
        let policy = Data(document(signer: signer, date: date).utf8).base64EncodedString()
        out.append(("policy", policy))
        out.append(("x-amz-signature", signer.signature(stringToSign: policy, day: day)))
        return out
    }

    /// `2026-12-03T07:00:00Z`.
    static func iso8601(_ date: Date) -> String {
        let c = Array(SigV4.timestamps(date).amzDate)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))Z"
    }

    /// A JSON string as Python's `json.dumps` writes it (non-ASCII as `\uXXXX`).
    static func json(_ s: String) -> String { JSONText.quoted(s, escapingNonASCII: true) }
}
