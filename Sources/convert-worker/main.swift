// convert-worker: one sandboxed converter, started by a job-runner (inside bubblewrap unless
// DOCFLOW_SANDBOX=off). It talks only to its runner over descriptor 3; see DocFlowSandbox/Worker.swift.
//   convert-worker [--memory-mb N] [--cpu-seconds N] [--file-mb N] [--max-jobs N] [--test-hooks]
import DocFlowSandbox
import Foundation

exit(Worker.main(Array(CommandLine.arguments.dropFirst())))
