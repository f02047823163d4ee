// docflow: the conversion library for one-off local use (no database, no server: it links no libpq),
// and the operator's look at the configured storage (`docflow storage check|ls`).
import ArgumentParser
import DocFlowConvert
import DocFlowCore
import DocFlowModel
import DocFlowS3
import Foundation

struct DocFlow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docflow",
        abstract: "Doc Flow: convert documents and list the formats (the database schema: janitor migrate).",
        subcommands: [Convert.self, Inspect.self, Formats.self, StorageCommand.self])
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
        let src = try readableInput(input, from: from, reg)
        guard let dst = to.flatMap(reg.format(named:)) ?? reg.format(forFilename: output) else {
            throw ValidationError("Cannot tell the output format of \(output); pass --to.")
        }
        let checked: Options
        do {
            checked = try reg.options.check(json: options, from: src, to: dst)
        } catch {
            FileHandle.standardError.write(Data("docflow: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let context = ConversionContext(options: checked)
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

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print FILE's metadata as JSON (what a job reports; `convert FILE OUT.json --to extract` adds the content).")
    @Argument(help: "Input file.") var input: String
    @Option(help: "Input format (md, csv, …).") var from: String?
    @Option(help: "Options as a JSON object, as in the API.") var options: String = "{}"

    func run() throws {
        let reg = FormatRegistry.standard
        let src = try readableInput(input, from: from, reg)
        do {
            let checked = try reg.options.check(json: options, from: src, to: .extract)
            let summary = try reg.convert(.file(input), from: src, to: .extract, sink: DiscardSink(), context: ConversionContext(options: checked))
            print(summary.metadataJSON)
            for w in summary.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        } catch let e as ConversionError {
            FileHandle.standardError.write(Data("docflow: \(e.message)\n".utf8))
            throw ExitCode(2)
        } catch let e as OptionError {
            FileHandle.standardError.write(Data("docflow: \(e.message)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The format of `input` (`--from`, else its name) once it is known to be readable.
func readableInput(_ input: String, from: String?, _ reg: FormatRegistry) throws -> Format {
    guard let src = from.flatMap(reg.format(named:)) ?? reg.format(forFilename: input) else {
        throw ValidationError("Cannot tell the input format of \(input); pass --from.")
    }
    guard access(input, R_OK) == 0 else { throw ValidationError("Cannot read \(input).") }
    return src
}

/// A sink that keeps nothing (inspect wants the metadata only).
final class DiscardSink: ByteSink {
    private(set) var count = 0
    func write(_ part: [UInt8]) throws { count += part.count }
    func finish() throws {}
}

struct Formats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the formats, the conversions between them and the options each reader and writer takes.")
    func run() {
        let reg = FormatRegistry.standard
        let idWidth = reg.formats.map(\.id.count).max() ?? 0, nameWidth = reg.formats.map(\.name.count).max() ?? 0
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        for f in reg.formats {
            let targets = reg.targets(from: f).map(\.id)
            print("\(pad(f.id, idWidth))  \(pad(f.name, nameWidth))  → \(targets.isEmpty ? "(output only)" : targets.joined(separator: ", "))")
        }
        // The options of a conversion are its reader's and its writer's (the same declarations
        // the API checks uploads against and lists in GET /api/formats).
        print("\nconversions that take options (the reader's, then the writer's):")
        for f in reg.formats {
            for t in reg.targets(from: f) {
                let names = reg.options.forPair(from: f, to: t).map(\.name)
                if !names.isEmpty { print("  \(f.id) → \(t.id): \(names.joined(separator: ", "))") }
            }
        }
        for (title, table) in [("reading", reg.options.readers), ("writing", reg.options.writers)] {
            for id in table.keys.sorted() {
                print("\noptions for \(title) \(id):")
                for o in table[id]! { print("  \(o.name): \(o.allowed); default \(o.defaultValue). \(o.help)") }
            }
        }
    }
}

Allocator.reuseFreedBuffers()
DocFlow.main()
