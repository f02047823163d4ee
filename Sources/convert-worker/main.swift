// convert-worker: one sandboxed converter, started by a job-runner (inside bubblewrap unless
// DOCFLOW_SANDBOX=off). It talks only to its runner over descriptor 3; see DocFlowSandbox/Worker.swift.
//   convert-worker [--memory-mb N] [--cpu-seconds N] [--file-mb N] [--max-jobs N] [--test-hooks]
import DocFlowSandbox
import Foundation

// In the sandbox there is no /proc, where Swift reads the command line from: the runner passes the
// same arguments in DOCFLOW_WORKER_ARGS too (the command line stays for ps).
let args = getenv("DOCFLOW_WORKER_ARGS").map { String(cString: $0).split(separator: " ").map(String.init) }
    ?? Array(CommandLine.arguments.dropFirst())
exit(Worker.main(args))
