@testable import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

/// A table with every column type, nulls, awkward text and edge values.
let sampleTable: Table = {
    let columns = [
        Column(name: "id", type: .int64), Column(name: "price", type: .double), Column(name: "name", type: .string),
        Column(name: "ok", type: .boolean), Column(name: "day", type: .date), Column(name: "at", type: .timestamp),
    ]
    var rows: [[Value]] = [
        [.int(1), .double(1.5), .string("alpha"), .bool(true), .temporal("2024-01-02"), .temporal("2024-01-02T03:04:05Z")],
        [.int(-9_007_199_254_740_993), .null, .string("quote \" comma , newline\nend"), .bool(false), .temporal("1900-03-01"),
         .temporal("1999-12-31T23:59:59.123456Z")],
        [.null, .double(-2.5e-10), .string("ünïcødé ✓ 漢字"), .null, .null, .null],
        [.int(Int64.max), .double(1e300), .string(""), .bool(true), .temporal("9999-12-31"), .temporal("1970-01-01T00:00:00Z")],
    ]
    for i in 0..<40_000 {  // enough rows for several pages, a dictionary and row groups
        rows.append([.int(Int64(i)), .double(Double(i) / 8), .string("cat\(i % 7)"), .bool(i % 3 == 0),
                     .temporal(CivilTime.dateText(days: Int64(i % 20_000))), i % 11 == 0 ? .null : .temporal(CivilTime.timestampText(Int64(i) * 1_000_003, perSecond: 1_000_000, utc: true))])
    }
    return Table(columns: columns, rows: rows)
}()

func table(_ p: Payload) throws -> Table {
    guard case .table(let t) = p else { throw ConversionError(.internal, "not a table") }
    return t
}

@Suite struct ParquetTests {
    @Test(arguments: ["snappy", "zstd", "gzip", "none"])
    func roundTripKeepsEveryValueAndType(codec: String) throws {
        let ctx = try context(["compression": codec, "row_group_rows": 16_000], for: ParquetWriter().options)
        let bytes = try ParquetWriter().write(.table(sampleTable), context: ctx)
        #expect(ctx.reported["row_groups"] == .number(3))
        let back = try table(ParquetReader().read(bytes, context: ConversionContext()))
        #expect(back.columns == sampleTable.columns)
        #expect(back.rows.count == sampleTable.rows.count)
        #expect(back.rows == sampleTable.rows)
    }

    @Test func mixedColumnsAreStoredAsText() throws {
        let t = Table(columns: [Column(name: "n", type: .int64)], rows: [[.int(1)], [.string("x")], [.null]])
        let back = try table(ParquetReader().read(try ParquetWriter().write(.table(t), context: ConversionContext()), context: ConversionContext()))
        #expect(back.columns == [Column(name: "n", type: .string)])
        #expect(back.rows == [[.string("1")], [.string("x")], [.null]])
    }

    @Test func badOptionsAreRefused() {
        #expect(throws: OptionError.self) { try context(["compression": "lzo"], for: ParquetWriter().options) }
        #expect(throws: OptionError.self) { try context(["row_group_rows": 999], for: ParquetWriter().options) }
        #expect(throws: OptionError.self) { try context(["compresion": "zstd"], for: ParquetWriter().options) }
    }

    @Test func rleHybridRoundTrips() throws {
        var rng = SystemRandomNumberGenerator()
        for width in [1, 2, 3, 7, 8, 13, 20] {
            var values: [UInt32] = []
            for _ in 0..<3000 {
                let v = UInt32.random(in: 0..<(1 << UInt32(width)), using: &rng)
                values += Array(repeating: v, count: Bool.random(using: &rng) ? 1 : Int.random(in: 1...40, using: &rng))
            }
            let encoded = RLEEncoder.encode(values, width: width)
            var c = ByteCursor(encoded)
            #expect(try RLEDecoder.decode(&c, width: width, count: values.count).map(UInt32.init) == values)
        }
    }

    /// Every flat file of apache/parquet-testing reads; nested ones are refused by name.
    @Test func parquetTestingFilesReadOrAreRefusedClearly() throws {
        let dir = Fixtures.root.appendingPathComponent("parquet")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".parquet") }.sorted()
        #expect(files.count >= 35)
        var read = 0
        for f in files {
            let bytes = try Fixtures.bytes("parquet/" + f)
            do {
                let t = try table(ParquetReader().read(bytes, context: ConversionContext()))
                #expect(t.rows.allSatisfy { $0.count == t.columns.count }, "\(f)")
                read += 1
            } catch let e as ConversionError {
                #expect(e.message.contains("nested") || f.contains("incorrect_map"), "\(f): \(e.message)")
            }
        }
        #expect(read >= 27)
    }

    @Test func corruptTruncatedAndEncryptedFilesFailCleanly() throws {
        for f in ["hostile/derived__truncated-alltypes_plain.parquet", "hostile/generated__zero-bytes.parquet",
                  "parquet/parquet-testing__uniform_encryption.parquet.encrypted"] {
            #expect(throws: ConversionError.self, "\(f)") { try ParquetReader().read(try Fixtures.bytes(f), context: ConversionContext()) }
        }
        // Fuzzed files from Arrow's bug reports: read or refused, never a crash.
        for f in ["ARROW-GH-41321", "ARROW-GH-43605", "ARROW-GH-47662", "ARROW-RS-GH-6229-DICTHEADER", "PARQUET-1481"] {
            _ = try? ParquetReader().read(try Fixtures.bytes("hostile/parquet-testing__\(f).parquet"), context: ConversionContext())
        }
        // Every truncation of a real file fails cleanly too.
        let whole = try Fixtures.bytes("parquet/parquet-testing__alltypes_plain.parquet")
        for cut in stride(from: 0, to: whole.count - 1, by: 97) {
            var damaged = whole
            damaged[cut] ^= 0x5A
            _ = try? ParquetReader().read(damaged, context: ConversionContext())
        }
    }
}

@Suite struct XLSXTests {
    @Test func roundTripKeepsValuesAndTypes() throws {
        let small = Table(columns: sampleTable.columns, rows: Array(sampleTable.rows.prefix(300)))
        let ctx = ConversionContext()
        let bytes = try XLSXWriter().write(.table(small), context: ctx)
        let back = try table(XLSXReader().read(bytes, context: ConversionContext()))
        #expect(back.columns.map(\.name) == small.columns.map(\.name))
        #expect(back.columns[0].type == .string)  // a 2^53+1 integer is written as text to stay exact
        #expect(back.columns[1...4].map(\.type) == [.double, .string, .boolean, .date])
        #expect(back.rows[1][0] == .string("-9007199254740993"))
        #expect(back.rows[0][4] == .temporal("2024-01-02"))
        #expect(back.rows[1][5] == .temporal("1999-12-31T23:59:59.123"))  // Excel keeps milliseconds
        #expect(back.rows[2][2] == .string("ünïcødé ✓ 漢字"))
        #expect(back.rows[1][2] == .string("quote \" comma , newline\nend"))
        #expect(ctx.warnings.contains { $0.contains("too large for Excel") })
    }

    @Test func sheetsRollOverAndCanBeChosen() throws {
        let t = Table(columns: [Column(name: "n", type: .int64)], rows: (0..<25).map { [.int(Int64($0))] })
        let ctx = try context(["rows_per_sheet": 10, "sheet_name": "nums"], for: XLSXWriter().options)
        let bytes = try XLSXWriter().write(.table(t), context: ctx)
        #expect(ctx.reported["sheets"] == .number(3))
        let third = try table(XLSXReader().read(bytes, context: try context(["sheet": "3"], for: XLSXReader().options)))
        #expect(third.rows == (20..<25).map { [.int(Int64($0))] })
        #expect(third.metadata.properties["sheets"] == .list([.text("nums"), .text("nums (2)"), .text("nums (3)")]))
        #expect(throws: ConversionError.self) { try XLSXReader().read(bytes, context: try context(["sheet": "nope"], for: XLSXReader().options)) }
    }

    @Test func datesStrictAnd1904() throws {
        let strict = try table(XLSXReader().read(try Fixtures.bytes("xlsx/poi__SampleSS.strict.xlsx"), context: ConversionContext()))
        let transitional = try table(XLSXReader().read(try Fixtures.bytes("xlsx/poi__SampleSS.xlsx"), context: ConversionContext()))
        #expect(strict.rows == transitional.rows)
        let d1904 = try table(XLSXReader().read(try Fixtures.bytes("xlsx/csvkit__test_skip_lines.xlsx"), context: ConversionContext()))
        #expect(d1904.rows[0][1] == .temporal("1971-01-01"))
    }

    @Test func hostileWorkbooksFailWithinLimits() throws {
        let amplified = try Fixtures.bytes("hostile/poi__poc-shared-strings.xlsx")
        #expect(throws: ConversionError.self) { try XLSXReader().read(amplified, context: ConversionContext()) }
        for f in ["hostile/poi__invalid.xlsx", "hostile/generated__zero-bytes.xlsx", "hostile/derived__truncated-simple01.xlsx",
                  "hostile/poi__protected_passtika.xlsx"] {
            #expect(throws: ConversionError.self, "\(f)") { try XLSXReader().read(try Fixtures.bytes(f), context: ConversionContext()) }
        }
        // Entities are never expanded or fetched: the bomb and the XXE read as plain cells.
        for f in ["hostile/poi__poc-xmlbomb.xlsx", "hostile/poi__xxe_in_schema.xlsx"] {
            if let t = try? table(XLSXReader().read(try Fixtures.bytes(f), context: ConversionContext())) {
                let text = t.rows.flatMap { $0.map(\.text) }.joined()
                #expect(!text.contains("root:") && text.utf8.count < 100_000, "\(f)")
            }
        }
    }
}

@Suite struct JSONTableTests {
    /// JSONTestSuite: every y_ document parses, every n_ document is refused, i_ ones never crash.
    @Test func jsonTestSuite() throws {
        let dir = Fixtures.root.appendingPathComponent("specs/jsontestsuite/test_parsing")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files.count > 100)
        for f in files {
            let bytes = Array(try Data(contentsOf: dir.appendingPathComponent(f)))
            var p = JSONParser(bytes)
            let ok = (try? p.parseValue()) != nil && p.atEnd
            if f.hasPrefix("y_") { #expect(ok, "\(f) should parse") }
            if f.hasPrefix("n_") { #expect(!ok, "\(f) should be refused") }
        }
    }

    @Test func errorsGiveLineAndColumn() {
        do {
            _ = try JSONReader().read(Array("[\n  {\"a\": 1,}\n]".utf8), context: ConversionContext())
            Issue.record("accepted")
        } catch let e as ConversionError {
            #expect(e.message.hasPrefix("Invalid JSON at line 2, column 11"))
        } catch { Issue.record("\(error)") }
        #expect(throws: ConversionError.self) { try JSONReader().read(try Fixtures.bytes("hostile/generated__json-nesting-500k.json"), context: ConversionContext()) }
    }

    @Test func shapesFlatteningAndTypes() throws {
        let t = try table(JSONReader().read(Array(#"[{"a": 1, "b": {"c": 2.5, "d": [1, 2]}}, {"a": 12345678901234567890, "e": "2024-01-01"}]"#.utf8), context: ConversionContext()))
        #expect(t.columns.map(\.name) == ["a", "b.c", "b.d", "e"])
        #expect(t.columns.map(\.type) == [.string, .double, .string, .date])
        #expect(t.rows[0] == [.string("1"), .double(2.5), .string("[1,2]"), .null])
        #expect(t.rows[1][0] == .string("12345678901234567890"))
        let lines = try table(JSONReader(format: .jsonLines).read(Array("{\"x\": 1}\n{\"x\": 2, \"y\": true}\n".utf8), context: ConversionContext()))
        #expect(lines.rows == [[.int(1), .null], [.int(2), .bool(true)]])
        let arrays = try table(JSONReader().read(try Fixtures.bytes("json/frictionless__table.json"), context: ConversionContext()))
        #expect(arrays.columns.map(\.name) == ["id", "name"] && arrays.rows.count == 2)
    }

    /// The fast path for flat records gives exactly the table the general reader gives.
    @Test func flatFastPathAgreesWithTheGeneralReader() throws {
        var docs = [
            #"[{"a": 1, "b": "x", "c": true, "d": "2024-01-02", "e": "2024-01-02T03:04:05Z", "f": 1.5}, {"a": 2, "b": "", "c": false, "d": "", "e": null, "f": 2}]"#,
            #"{"k": "esc\"aped \u00e9\n", "n": 0e5, "big": 123456789012345678901234, "inf": 1e999}"# + "\n" + #"{"k": "plain", "x": -0, "big": 1, "inf": 2.5}"#,
            #"[{"mixed": 1}, {"mixed": "one"}, {"mixed": 2.5}, {"mixed": true}, {"other": null}]"#,
            #"[{"t": "2024-01-01T00:00:00"}, {"t": "2024-01-01 10:00:00.123+02:00"}, {"t": ""}]"#,
            #"[{"\u0061b": 1}, {"ab": 2}]"#,
        ]
        docs += sampleTable.rows.prefix(300).isEmpty ? [] : [String(decoding: try JSONWriter().write(.table(Table(columns: sampleTable.columns, rows: Array(sampleTable.rows.prefix(300)))), context: ConversionContext()), as: UTF8.self)]
        for doc in docs {
            let bytes = Array(doc.utf8)
            let fast = try #require(FlatJSON.read(bytes, context: ConversionContext()), "\(doc.prefix(60))")
            let general = try JSONReader().general(bytes, context: ConversionContext())
            #expect(fast.columns == general.columns, "\(doc.prefix(60))")
            #expect(fast.rows == general.rows, "\(doc.prefix(60))")
        }
        // Nesting, duplicate keys and other shapes are left to the general reader.
        for doc in [#"[{"a": {"b": 1}}]"#, #"[{"a": 1, "a": 2}]"#, #"[[1, 2]]"#, #"[1, 2]"#, #"[{"a": 1},]"#] {
            #expect(FlatJSON.read(Array(doc.utf8), context: ConversionContext()) == nil, "\(doc)")
        }
    }

    @Test func jsonAndJSONLinesRoundTrip() throws {
        let small = Table(columns: sampleTable.columns, rows: Array(sampleTable.rows.prefix(500)))
        for format in [Format.json, .jsonLines] {
            let bytes = try JSONWriter(format: format).write(.table(small), context: ConversionContext())
            let back = try table(JSONReader(format: format).read(bytes, context: ConversionContext()))
            #expect(back.rows == small.rows, "\(format.id)")
        }
    }
}

@Suite struct CSVLargeTests {
    /// Past 65,536 records the second pass is split between cores at record boundaries found by
    /// the first: quoted newlines, blank lines and a late type change must all land in place.
    @Test func bigOutputsComeInPartsThatJoinToTheWhole() throws {
        var csv = "id,name,score\n"
        for i in 0..<60_000 { csv += "\(i),name \(i),\(Double(i) / 8)\n" }
        for to in [Format.json, .jsonLines, .csv] {
            let r = try FormatRegistry.standard.convert(Array(csv.utf8), from: .csv, to: to, context: ConversionContext())
            if ProcessInfo.processInfo.activeProcessorCount > 1 { #expect(r.parts.count > 2, "\(to.id)") }
            #expect(r.byteCount == r.bytes.count)
            let table = try CSVReader().read(Array(csv.utf8), context: ConversionContext())
            let whole = try FormatRegistry.standard.writers[to.id]!.write(table, context: ConversionContext())
            #expect(r.bytes == whole, "\(to.id)")
        }
    }

    @Test func splitParsingKeepsEveryRowInPlace() throws {
        var csv = "n,text,x\n"
        let rows = 200_003
        for i in 0..<rows {
            csv += i % 1000 == 7 ? "\(i),\"line one\nline \"\"two\"\"\",\(i)\n\n" : "\(i),plain \(i),\(i)\n"
        }
        csv += "\(rows),last,1.5\n"  // the last row makes column x a double
        let t = try table(CSVReader().read(Array(csv.utf8), context: ConversionContext()))
        #expect(t.rowCount == rows + 1)
        #expect(t.columns.map(\.type) == [.int64, .string, .double])
        for i in [0, 7, 65_535, 65_536, 65_537, 131_007, 131_072, 199_007, rows - 1] {
            #expect(t.row(i)[0] == .int(Int64(i)), "row \(i)")
            #expect(t.row(i)[1] == .string(i % 1000 == 7 ? "line one\nline \"two\"" : "plain \(i)"), "row \(i)")
            #expect(t.row(i)[2] == .double(Double(i)), "row \(i)")
        }
        #expect(t.row(rows) == [.int(Int64(rows)), .string("last"), .double(1.5)])
    }

    /// Writers read columns through buffer-pointer views, which nest per column: a table wider
    /// than `Table.maxViewColumns` (a hostile CSV has 100,000 columns; this crashed the runner's
    /// stack once) is written from the column arrays instead, with the same bytes.
    @Test func veryWideTablesAreWrittenWithoutViews() throws {
        for width in [Table.maxViewColumns, Table.maxViewColumns + 1, 20_000] {
            let header = (0..<width).map { "c\($0)" }.joined(separator: ",")
            let row = (0..<width).map { $0 % 3 == 0 ? "\($0)" : $0 % 3 == 1 ? "x\($0)" : "" }.joined(separator: ",")
            let csv = Array((header + "\n" + row + "\n" + row + "\n").utf8)
            let back = try FormatRegistry.standard.convert(csv, from: .csv, to: .csv, context: ConversionContext())
            #expect(String(decoding: back.bytes, as: UTF8.self) == header + "\r\n" + row + "\r\n" + row + "\r\n", "\(width)")
            let json = try FormatRegistry.standard.convert(csv, from: .csv, to: .json, context: ConversionContext())
            let again = try FormatRegistry.standard.convert(json.bytes, from: .json, to: .csv, context: ConversionContext())
            #expect(again.bytes == back.bytes, "\(width)")
        }
    }

    /// The first pass reads the two halves of a big file on two cores, guessing that the first
    /// line end past the middle is a record boundary. When the middle falls inside a quoted field
    /// (a 6 MB cell of line ends here) the guess fails and the first half reads on; either way
    /// every row, type and padded-row count is what a single reader finds.
    @Test func firstPassSplitSurvivesAMiddleInsideQuotes() throws {
        for inside in [true, false] {
            var csv = "id,text,v\n"
            for i in 0..<50_000 { csv += "\(i),short,\(i)\n" }
            csv += "50000,\"" + String(repeating: inside ? "x\n" : "xy", count: 3_000_000) + "\",1\n"
            for i in 50_001..<120_000 { csv += i == 119_999 ? "\(i)\n" : "\(i),\"a\nb\",\(i)\n" }
            let context = ConversionContext()
            let t = try table(CSVReader().read(Array(csv.utf8), context: context))
            #expect(t.rowCount == 120_000)
            #expect(t.columns.map(\.type) == [.int64, .string, .int64])
            #expect(t.row(50_000)[1] == .string(String(repeating: inside ? "x\n" : "xy", count: 3_000_000)))
            for i in [0, 49_999, 50_001, 65_536, 100_000, 119_998] {
                #expect(t.row(i)[0] == .int(Int64(i)), "row \(i)")
                #expect(t.row(i)[1] == .string(i < 50_000 ? "short" : "a\nb"), "row \(i)")
            }
            #expect(t.row(119_999) == [.int(119_999), .null, .null])  // fields missing from a short row are null
            #expect(context.warnings == ["1 row(s) had fewer fields than the widest row and were padded with empty values."])
        }
    }
}

@Suite struct DoubleParsingTests {
    /// The fast path (short decimals without an exponent) must give exactly strtod's double.
    @Test func fastPathAgreesWithStrtod() {
        var rng = SystemRandomNumberGenerator()
        var cases = ["0", "-0.0", "0.1", "1.", ".5", "-.5", "+2.25", "123456789012345", "1234567890.12345", "0.000000000000000000001",
                     "9007199254740993", "1.7976931348623157", "00.5", "1e5", "1.2.3", ".", "-", "5e-324", "0.1000000000000000055511151231257827"]
        for _ in 0..<200_000 {
            let int = String(UInt64.random(in: 0...999_999_999, using: &rng))
            let frac = String(UInt64.random(in: 0...9_999_999_999, using: &rng))
            cases.append((Bool.random(using: &rng) ? "-" : "") + int + "." + frac)
        }
        for c in cases {
            let ours = c.utf8CString.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: UInt8.self) { TypeInference.parseDouble(UnsafeBufferPointer(rebasing: $0.dropLast())) }
            }
            let strtodValue: Double? = c.withCString { s in
                var end: UnsafeMutablePointer<CChar>?
                let v = strtod(s, &end)
                return UnsafePointer(end) == s + c.utf8.count && !c.isEmpty && v.isFinite ? v : nil
            }
            if let ours { #expect(ours.bitPattern == strtodValue?.bitPattern, "\(c)") }
        }
    }
}

@Suite struct CSVHeaderTests {
    func read(_ csv: String, _ options: [String: Any] = [:]) throws -> Table {
        try table(CSVReader().read(Array(csv.utf8), context: try context(options, for: CSVReader().options)))
    }

    @Test func aOneByteFileWithoutHeaderIsOneRow() throws {
        let t = try read("5", ["header": false])
        #expect(t.rowCount == 1 && t.row(0) == [.int(5)])
    }

    @Test func headerIsDetectedUnlessSet() throws {
        #expect(try read("1,2\n3,4\n").columns.map(\.name) == ["column_1", "column_2"])
        #expect(try read("1,2\n3,4\n").rowCount == 2)
        #expect(try read("id,price\n3,4.5\n").columns.map(\.name) == ["id", "price"])
        #expect(try read("name,city\nx,y\n").columns.map(\.name) == ["name", "city"])  // all text: a header, as pandas assumes
        #expect(try read("2024-01-01,x\n2024-01-02,y\n").columns.map(\.type) == [.date, .string])
        #expect(try read("1,2\n3,4\n", ["header": true]).columns.map(\.name) == ["1", "2"])
        #expect(try read("a,b\n3,4\n", ["header": false]).rowCount == 2)
    }

    @Test func tablesReportTheirSchema() throws {
        let r = try convert(Array("id,name\n1,x\n".utf8), .csv, .json)
        #expect(r.metadata.properties["schema"] == .list([.object([("name", .text("id")), ("type", .text("int64"))]),
                                                          .object([("name", .text("name")), ("type", .text("string"))])]))
        #expect(r.metadata.properties["rows"] == .number(1) && r.metadata.properties["columns"] == .number(2))
    }
}

@Suite struct UTF8ValidationTests {
    /// The fast validator agrees with the standard library on random and edge-case bytes.
    @Test func agreesWithTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let edges: [[UInt8]] = [[0xC0, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98, 0x80],
                                [0xE2, 0x82, 0xAC], [0xC3], [0xFF], Array("plain ascii text!".utf8)]
        var cases = edges
        for _ in 0..<3000 {
            let n = Int.random(in: 0..<24, using: &rng)
            cases.append((0..<n).map { _ in Bool.random(using: &rng) ? UInt8.random(in: 0x20..<0x7F, using: &rng) : UInt8.random(in: 0x80...0xFF, using: &rng) })
        }
        for c in cases {
            #expect(TextDecoding.isValidUTF8(c) == (String(validating: c, as: UTF8.self) != nil), "\(c)")
        }
    }
}

@Suite struct CSVWriterTests {
    @Test func rfc4180RoundTrip() throws {
        let small = Table(columns: sampleTable.columns, rows: Array(sampleTable.rows.prefix(500)))
        let bytes = try CSVWriter().write(.table(small), context: ConversionContext())
        #expect(String(decoding: bytes.prefix(25), as: UTF8.self) == "id,price,name,ok,day,at\r\n")
        let back = try table(CSVReader().read(bytes, context: ConversionContext()))
        #expect(back.columns == small.columns)
        // CSV cannot tell an empty string from a missing one: the one "" string reads back as "".
        #expect(back.rows == small.rows)
    }
}

/// Seeded mutations of real files: every reader either reads or throws — never a trap, never a hang.
@Suite struct MutationTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutants(_ bytes: [UInt8], count: Int, rng: inout SplitMix) -> [[UInt8]] {
        (0..<count).map { k in
            var m = bytes
            switch k % 3 {
            case 0:  // flip a few bytes
                for _ in 0..<Int.random(in: 1...4, using: &rng) { m[Int.random(in: 0..<m.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            case 1:  // set a byte to an extreme
                m[Int.random(in: 0..<m.count, using: &rng)] = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &rng)!
            default:  // truncate
                m.removeSubrange(Int.random(in: 0..<m.count, using: &rng)...)
            }
            return m
        }
    }

    @Test func mutatedFilesReadOrFailCleanly() throws {
        var rng = SplitMix(state: 20_261_122)
        let parquet = ["alltypes_plain", "alltypes_dictionary", "datapage_v2.snappy", "delta_binary_packed", "delta_byte_array",
                       "byte_stream_split.zstd", "rle_boolean_encoding", "nulls.snappy", "int32_decimal", "fixed_length_decimal"]
        for name in parquet {
            let bytes = try Fixtures.bytes("parquet/parquet-testing__\(name).parquet")
            for m in Self.mutants(bytes, count: 300, rng: &rng) { _ = try? ParquetReader().read(m, context: ConversionContext()) }
        }
        for name in ["xlsxwriter__types01", "poi__SampleSS", "poi__InlineStrings", "xlsxwriter__date_1904_01"] {
            let bytes = try Fixtures.bytes("xlsx/\(name).xlsx")
            for m in Self.mutants(bytes, count: 60, rng: &rng) { _ = try? XLSXReader().read(m, context: ConversionContext()) }
        }
        let json = try Fixtures.bytes("json/csvkit__testjson.json")
        for m in Self.mutants(json, count: 200, rng: &rng) {
            _ = try? JSONReader().read(m, context: ConversionContext())
        }
        let csv = try Fixtures.bytes("csv/csvkit__iris.csv")
        for m in Self.mutants(csv, count: 200, rng: &rng) { _ = try? CSVReader().read(m, context: ConversionContext()) }
    }

    /// Office packages and PDFs: flips, extremes and truncations read or fail, never crash.
    @Test func mutatedDocumentsReadOrFailCleanly() throws {
        var rng = SplitMix(state: 20_261_123)
        let cases: [(String, any Reader)] = [
            ("docx/docling__docx_lists.docx", DOCXReader()), ("docx/mammoth__footnotes.docx", DOCXReader()),
            ("docx/docling__word_tables.docx", DOCXReader()), ("pptx/python-pptx__tbl-cell.pptx", PPTXReader()),
            ("pptx/docling__pptx_chart.pptx", PPTXReader()), ("pdf/pypdf__crazyones.pdf", PDFReader()),
            ("pdf/docling__multi_page.pdf", PDFReader()),
        ]
        for (path, reader) in cases {
            let bytes = try Fixtures.bytes(path)
            for m in Self.mutants(bytes, count: 150, rng: &rng) {
                guard let payload = try? reader.read(m, context: ConversionContext()) else { continue }
                // What reads must also write.
                _ = try? MarkdownWriter().write(payload, context: ConversionContext())
            }
        }
    }
}
