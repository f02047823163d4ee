import DocFlowCore
import Foundation

/// The one setting that picks the backend (`DOCFLOW_STORAGE`): a directory, or `s3://bucket` with
/// `DOCFLOW_S3_ENDPOINT`, `DOCFLOW_S3_REGION` and credentials from `DOCFLOW_S3_ACCESS_KEY_ID` /
/// `DOCFLOW_S3_SECRET_ACCESS_KEY` or a file (`DOCFLOW_S3_CREDENTIALS_FILE`) that only its owner may
/// read. fcgi-app, the runners, the janitor and the CLI all make their stores here.
public enum StorageBackend {
    /// A factory of per-thread stores for `config`; throws a `StorageError` naming what is missing.
    public static func factory(_ config: Config) throws -> ObjectStoreFactory {
        guard config.storage.hasPrefix("s3://") else { return LocalStore.factory(root: config.storage) }
        guard let bucket = config.s3Bucket else {
            throw StorageError("The storage setting is invalid.", cause: "DOCFLOW_STORAGE=s3://BUCKET names no bucket")
        }
        guard let url = URL(string: config.s3Endpoint), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw StorageError("The storage setting is invalid.", cause: "DOCFLOW_S3_ENDPOINT must be http(s)://host[:port]")
        }
        let signer = try self.signer(config)
        let endpoint = config.s3Endpoint, workDir = config.workDir + "/tmp"
        return { S3Store(client: S3Client(endpoint: endpoint, bucket: bucket, signer: signer), workDir: workDir) }
    }

    /// Makes the bucket when it does not exist yet (setup; S3 backend only).
    public static func prepare(_ config: Config) throws {
        guard let bucket = config.s3Bucket else {
            try FileManager.default.createDirectory(atPath: config.storage, withIntermediateDirectories: true)
            return
        }
        let signer = try self.signer(config)
        do { try S3Client(endpoint: config.s3Endpoint, bucket: bucket, signer: signer).createBucket() } catch let e as S3Error {
            throw StorageError("The bucket could not be made.", cause: "\(e.code) (HTTP \(e.status))", isTransient: e.isTransient)
        }
    }

    static func signer(_ config: Config) throws -> SigV4 {
        SigV4(credentials: try credentials(config), region: config.s3Region, service: "s3")
    }

    /// The credentials of the environment, or of the file: `access_key_id = …` and
    /// `secret_access_key = …` lines (`#` comments), refused when group or others may read it.
    static func credentials(_ config: Config) throws -> AWSCredentials {
        if !config.s3AccessKeyID.isEmpty, !config.s3SecretAccessKey.isEmpty {
            return AWSCredentials(accessKeyID: config.s3AccessKeyID, secretAccessKey: config.s3SecretAccessKey.value)
        }
        let path = config.s3CredentialsFile
        guard !path.isEmpty else {
            throw StorageError("The storage setting is invalid.",
                               cause: "no S3 credentials: set DOCFLOW_S3_CREDENTIALS_FILE (or DOCFLOW_S3_ACCESS_KEY_ID and DOCFLOW_S3_SECRET_ACCESS_KEY)")
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw StorageError("The storage setting is invalid.", cause: "S3 credentials file \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw StorageError("The storage setting is invalid.", cause: "S3 credentials file \(path) may be read by others (chmod 600)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StorageError("The storage setting is invalid.", cause: "S3 credentials file \(path) cannot be read")
        }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let l = line.trimmingCharacters(in: .whitespaces)
            guard !l.hasPrefix("#"), let eq = l.firstIndex(of: "=") else { continue }
            values[l[..<eq].trimmingCharacters(in: .whitespaces)] = l[l.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["access_key_id"], let secret = values["secret_access_key"], !id.isEmpty, !secret.isEmpty else {
            throw StorageError("The storage setting is invalid.", cause: "S3 credentials file \(path) lacks access_key_id or secret_access_key")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret)
    }
}
