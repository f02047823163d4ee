import DocFlowCore
import DocFlowStore
import Foundation
import Logging
import Tracing

extension App.Worker {
    /// Names the request's span after its route and records what an operator looks a request up
    /// by (OpenTelemetry's HTTP server conventions, plus nginx's request id).
    func describe(_ span: any Span, _ req: Request, _ response: Response, route: String?, requestID: String, errorCode: String?) {
        span.operationName = route.map { "\(req.method) \($0)" } ?? req.method
        span.updateAttributes { a in
            a["http.request.method"] = req.method
            if let route { a["http.route"] = route }
            a["url.path"] = req.path
            a["http.response.status_code"] = response.status
            a["docflow.request.id"] = requestID
            if let errorCode { a["docflow.error.code"] = errorCode }
        }
        if response.status >= 500 { span.setStatus(SpanStatus(code: .error, message: errorCode)) }
    }

    /// Inserts a job made by this request, with the request's trace context (the runner and the
    /// gateway continue the trace from it); its id, pair and size go on the span and a log line.
    /// Returns the job as JSON text.
    func insertJob(_ job: NewJob) throws -> String {
        var job = job
        job.traceContext = traceparent
        let body = try withDB { try $0.jobInsert(job) }
        let id = job.id.uuidString.lowercased()
        span.updateAttributes { a in
            a["docflow.job.id"] = id
            a["docflow.pair"] = "\(job.inputFormat)>\(job.outputFormat)"
            a["docflow.input.bytes"] = Int(job.inputBytes)
        }
        // (The request's log already carries its trace id.)
        log.info("job queued", metadata: ["docflow.job.id": "\(id)", "docflow.pair": "\(job.inputFormat)>\(job.outputFormat)",
                                          "docflow.input.bytes": "\(job.inputBytes)"])
        return body
    }
}
