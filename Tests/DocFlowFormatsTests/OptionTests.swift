import DocFlowFormats
import Foundation
import Testing

/// Options are checked against the declarations before a job exists: unknown keys and values not
/// allowed are refused with a message naming the key and what it allows.
@Suite struct OptionTests {
    let declared = ConverterOptions.standard

    func check(_ json: String, _ from: Format, _ to: Format, debug: Bool = false) throws(OptionError) -> Options {
        try declared.check(json: json, from: from, to: to, allowDebug: debug)
    }

    func refusal(_ json: String, _ from: Format, _ to: Format) -> OptionError? {
        do { _ = try check(json, from, to); return nil } catch { return error }
    }

    @Test func unknownKeysAreRefusedByName() {
        let e = refusal(#"{"page_sise": "a4"}"#, .markdown, .pdf)
        #expect(e?.key == "page_sise")
        #expect(e?.message.contains("page_sise") == true && e?.message.contains("page_size") == true, "\(String(describing: e))")
        // An option of another conversion is not taken by this one.
        #expect(refusal(#"{"delimiter": ";"}"#, .json, .parquet)?.key == "delimiter")
        #expect(refusal(#"{"delimiter": ";"}"#, .json, .csv) == nil)  // the CSV writer takes it
        #expect(refusal(#"{"notes": true}"#, .markdown, .html)?.message.contains("takes no options") == false)
        #expect(refusal(#"{"x": 1}"#, .markdown, .text)?.message.contains("takes no options") == true)
    }

    @Test func badValuesAreRefusedWithWhatIsAllowed() {
        let a3 = refusal(#"{"page_size": "a3"}"#, .markdown, .pdf)
        #expect(a3?.key == "page_size")
        #expect(a3?.message == #"Option page_size must be "a4" or "letter", not "a3"."#)
        #expect(refusal(#"{"header": "yes"}"#, .csv, .json)?.key == "header")
        #expect(refusal(#"{"header": 1}"#, .csv, .json)?.key == "header")  // a number is not a boolean
        #expect(refusal(#"{"row_group_rows": 999}"#, .csv, .parquet)?.message.contains("from 1000 to 10000000") == true)
        #expect(refusal(#"{"row_group_rows": 2.5}"#, .csv, .parquet) != nil)
        #expect(refusal(#"{"delimiter": "ab"}"#, .csv, .json) != nil)
        #expect(refusal(#"{"delimiter": "\""}"#, .csv, .json) != nil)
        #expect(refusal(#"{"delimiter": "é"}"#, .csv, .json) != nil)
        #expect(refusal(#"{"sheet_name": "a/b"}"#, .csv, .xlsx) != nil)
        #expect(refusal(#"{"sheet_name": "'quoted'"}"#, .csv, .xlsx) != nil)
        #expect(refusal(#"{"sheet_name": "0123456789012345678901234567890123"}"#, .csv, .xlsx) != nil)
        #expect(refusal(#"{"sheet": 0}"#, .xlsx, .csv) != nil)
        #expect(refusal(#"{"sheet": ""}"#, .xlsx, .csv) != nil)
        #expect(refusal("[1]", .csv, .json)?.key == nil)
    }

    @Test func valuesAreNormalisedForTheConverters() throws {
        let o = try check(#"{"delimiter": "TAB", "header": false, "infer_types": null}"#, .csv, .json)
        #expect(o.text(TableOptions.delimiter) == "\t")
        #expect(o.bool(TableOptions.header) == false)
        #expect(o.bool(TableOptions.inferTypes) == nil)  // null: the default
        let p = try check(#"{"compression": "ZSTD", "row_group_rows": "5000"}"#, .csv, .parquet)
        #expect(p.text(TableOptions.compression) == "zstd")
        #expect(p.int(TableOptions.rowGroupRows) == 5000)
        #expect(try check(#"{"sheet": 2}"#, .xlsx, .csv).text(TableOptions.sheet) == "2")
        #expect(try check(#"{"page_size": "Letter", "font": "mono"}"#, .html, .pdf).text(DocumentOptions.pageSize) == "letter")
        #expect(try check("{}", .pdf, .text).isEmpty)
    }

    @Test func debugOptionsPassOnlyWithTheTestHooks() throws {
        #expect(refusal(#"{"debug_crash": true}"#, .csv, .json)?.key == "debug_crash")
        let o = try check(#"{"debug_crash": true, "header": true}"#, .csv, .json, debug: true)
        #expect(o.bool(TableOptions.header) == true)
    }

    /// The README's list of job options names every declared option, and declares every one it names.
    @Test func readmeListsTheDeclaredOptions() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "Job `options` (JSON object"), let end = text.range(of: "\n\n", range: start.upperBound..<text.endIndex) else {
            Issue.record("the README has no job options paragraph"); return
        }
        let paragraph = String(text[start.lowerBound..<end.lowerBound])
        let all = Set((declared.readers.values.flatMap { $0 } + declared.writers.values.flatMap { $0 }).map(\.name))
        for name in all { #expect(paragraph.contains("`\(name)`"), "README does not list option \(name)") }
        // Every `word` in the paragraph that looks like an option key is declared (values are quoted words too: skip those).
        let values: Set<String> = ["a4", "letter", "sans", "serif", "monospace", "mono", "direct", "pango", "snappy", "zstd", "gzip",
                                   "none", "tab", ",", ";", "|", "bad_options", "options", "to", "true", "false", "null",
                                   "read_options", "write_options"]
        let ticked = paragraph.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        for word in ticked where word.range(of: "^[a-z][a-z_]*$", options: .regularExpression) != nil && !values.contains(word) {
            #expect(all.contains(word), "README names option \(word), which no converter declares")
        }
    }
}
