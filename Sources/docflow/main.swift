// docflow: the conversion library for one-off local use (no database, no server: it links no libpq).
import ArgumentParser
import DocFlowConvert
import DocFlowCore
import DocFlowModel
import Foundation

struct DocFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docflow",
        abstract: "Doc Flow: convert documents and list the formats (the database schema: janitor migrate).",
        subcommands: [Convert.self, Formats.self])
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Convert IN to OUT (formats from the extensions unless given).")
    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file (- for standard output).") var output: String
    @Option(help: "Input format (md, csv, …).") var from: String?
    @Option(help: "Output format (html, json, …).") var to: String?
    @Option(help: "Options as a JSON object, as in the API.") var options: String = "{}"

    func run() throws {
        let reg = FormatRegistry.standard
        guard let src = from.flatMap(reg.format(named:)) ?? reg.format(forFilename: input) else {
            throw ValidationError("Cannot tell the input format of \(input); pass --from.")
        }
        guard let dst = to.flatMap(reg.format(named:)) ?? reg.format(forFilename: output) else {
            throw ValidationError("Cannot tell the output format of \(output); pass --to.")
        }
        guard access(input, R_OK) == 0 else { throw ValidationError("Cannot read \(input).") }
        guard let opts = try? JSONSerialization.jsonObject(with: Data(options.utf8)) as? [String: Any] else {
            throw ValidationError("--options must be a JSON object.")
        }
        let context = ConversionContext(options: opts)
        do {
            // Written as it is made: to standard output, or beside the destination and then
            // renamed, so no half-written output is ever left under its name.
            let summary: ConversionSummary
            if output == "-" {
                summary = try reg.convert(.file(input), from: src, to: dst, sink: FileSink(fd: 1), context: context)
            } else {
                var made: ConversionSummary?
                try AtomicFile.write(to: output, mode: 0o644, createFolder: false) { sink in
                    made = try reg.convert(.file(input), from: src, to: dst, sink: sink, context: context)
                }
                summary = made!
            }
            for w in summary.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        } catch is SinkError {
            throw ValidationError("Cannot write \(output == "-" ? "to standard output" : output).")
        } catch let e as ConversionError {
            FileHandle.standardError.write(Data("docflow: \(e.message)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct Formats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the formats and the conversions between them.")
    func run() {
        let reg = FormatRegistry.standard
        for f in reg.formats {
            let targets = reg.targets(from: f).map(\.id)
            print("\(f.id.padding(toLength: 6, withPad: " ", startingAt: 0)) \(f.name.padding(toLength: 10, withPad: " ", startingAt: 0)) → \(targets.isEmpty ? "(output only)" : targets.joined(separator: ", "))")
        }
    }
}

Allocator.reuseFreedBuffers()
DocFlow.main()
