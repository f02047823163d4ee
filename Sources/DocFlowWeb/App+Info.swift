import DocFlowCore
import DocFlowFormats
import DocFlowStore
import Foundation

extension App.Worker {
    /// `GET /api/formats`: every format, what it converts to, and the options of its reader, of
    /// its writer and of each conversion from it (the reader's then the writer's), from the
    /// conversion matrix and the converters' declared options.
    func formats() -> Response {
        let reg = app.formats
        let declared = ConverterOptions.standard
        func names(_ specs: [OptionSpec]) -> String { "[" + specs.map { JSONText.quoted($0.name) }.joined(separator: ", ") + "]" }
        func specs(_ specs: [OptionSpec]) -> String { "[" + specs.map(Self.optionJSON).joined(separator: ", ") + "]" }
        let items = reg.formats.map { f -> String in
            let targets = reg.targets(from: f)
            let exts = f.extensions.map { JSONText.quoted($0) }.joined(separator: ", ")
            let conversions = targets.map { t in
                "{\"to\": \(JSONText.quoted(t.id)), \"options\": \(names(declared.forPair(from: f, to: t)))}"
            }.joined(separator: ", ")
            return "{\"id\": \(JSONText.quoted(f.id)), \"name\": \(JSONText.quoted(f.name)), \"extensions\": [\(exts)], "
                + "\"mime_type\": \(JSONText.quoted(f.mimeType)), \"readable\": \(reg.isReadable(f)), "
                + "\"writable\": \(reg.isWritable(f)), \"to\": [\(targets.map { JSONText.quoted($0.id) }.joined(separator: ", "))], "
                + "\"read_options\": \(specs(declared.readers[f.id] ?? [])), \"write_options\": \(specs(declared.writers[f.id] ?? [])), "
                + "\"conversions\": [\(conversions)]}"
        }
        return .json(200, "{\"formats\": [" + items.joined(separator: ", ") + "]}")
    }

    /// One declared option as JSON: name, type, what it allows, default and help.
    static func optionJSON(_ o: OptionSpec) -> String {
        var extra = ""
        let type: String
        switch o.kind {
        case .boolean: type = "boolean"
        case .integer(let r): type = "integer"; extra = ", \"minimum\": \(r.lowerBound), \"maximum\": \(r.upperBound)"
        case .choice(let words): type = "choice"; extra = ", \"values\": [" + words.map { JSONText.quoted($0) }.joined(separator: ", ") + "]"
        case .character: type = "character"
        case .text: type = "text"
        case .nameOrPosition: type = "name_or_position"
        }
        return "{\"name\": \(JSONText.quoted(o.name)), \"type\": \"\(type)\"\(extra), \"allowed\": \(JSONText.quoted(o.allowed)), "
            + "\"default\": \(JSONText.quoted(o.defaultValue)), \"help\": \(JSONText.quoted(o.help))}"
    }

    /// `GET /api/usage`: bytes used, limit and expiry of this client.
    func usage(_ req: Request) throws -> Response {
        if let c = Identity.clientID(req), let body = try withDB({ try $0.clientUsageJSON(c) }) { return .json(200, body) }
        return .json(200, "{\"bytes_used\": 0, \"bytes_limit\": \(app.config.quotaBytes), \"created_at\": null, \"expires_at\": null, \"jobs\": 0}")
    }

    func queue() throws -> Response {
        .json(200, try withDB { try $0.queueStatsJSON() })
    }

    /// 200 when the database answers, 503 otherwise.
    func health() -> Response {
        do {
            _ = try withDB { try $0.query("SELECT 1 AS ok") }
            return .json(200, "{\"status\": \"ok\", \"database\": \"ok\"}")
        } catch {
            var r = Response.json(503, "{\"status\": \"unavailable\", \"database\": \"unreachable\", \"error\": {\"code\": \"database_unavailable\", \"message\": \"The database is unavailable.\"}}")
            r.headers.append(("Retry-After", String(APIError.retryAfterSeconds)))
            return r
        }
    }
}
