import DocFlowConvert
import DocFlowModel
import Foundation
import Testing

@Suite struct CSVReaderTests {
    /// csv-spectrum: every CSV parses to exactly the expected JSON (values as text).
    @Test(arguments: ["comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json", "newlines",
                      "newlines_crlf", "quotes_and_newlines", "simple", "simple_crlf", "utf8"])
    func csvSpectrumAgrees(_ name: String) throws {
        let out = try convert(Fixtures.bytes("csv-spectrum/csvs/\(name).csv"), .csv, .json, options: ["infer_types": false])
        let expected = try jsonObject(Fixtures.bytes("csv-spectrum/json/\(name).json")) as? [[String: String]]
        let actual = try jsonObject(out.bytes) as? [[String: String]]
        #expect(actual != nil)
        #expect(actual == expected)
    }

    @Test func typesAreInferredWithoutLoss() throws {
        let csv = "id,zip,n,x,flag,day,big,note,q\n1,02134,3,1.5,true,2024-01-31,123456789012345678901234,a,\"\"\n2,10001,,2e3,false,2024-02-01,5,,\n"
        let out = try convert(Array(csv.utf8), .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["id"] as? Int == 1)
        #expect(rows[0]["zip"] as? String == "02134")          // leading zero kept as text
        #expect(rows[1]["n"] is NSNull)                          // empty int cell is null
        #expect(rows[1]["x"] as? Double == 2000)
        #expect(rows[0]["flag"] as? Bool == true)
        #expect(rows[0]["day"] as? String == "2024-01-31")
        #expect(rows[0]["big"] as? String == "123456789012345678901234")  // past Int64: text
        #expect(rows[1]["note"] is NSNull)                       // an unquoted empty field is null
        #expect(rows[0]["q"] as? String == "")                   // a quoted "" is an empty string
        #expect(rows[1]["q"] is NSNull)
    }

    @Test func delimiterIsDetected() throws {
        for (d, text) in [(";", "a;b\n1;2\n"), ("\t", "a\tb\n1\t2\n"), ("|", "a|b\n1|2\n")] {
            let out = try convert(Array(text.utf8), .csv, .json)
            let rows = try jsonObject(out.bytes) as? [[String: Int]]
            #expect(rows == [["a": 1, "b": 2]], "delimiter \(d)")
        }
    }

    @Test func unterminatedQuoteFailsClearly() throws {
        let error = #expect(throws: ConversionError.self) {
            try convert(Fixtures.bytes("hostile/generated__csv-unterminated-quote.csv"), .csv, .json)
        }
        #expect(error?.code == .malformedInput)
        #expect(error?.message.contains("never closed") == true)
    }

    @Test func emptyFileFails() throws {
        let error = #expect(throws: ConversionError.self) {
            try convert(Fixtures.bytes("hostile/generated__zero-bytes.csv"), .csv, .json)
        }
        #expect(error?.message == "The CSV file is empty.")
    }

    @Test func nulByteIsRefusedAsBinary() throws {
        let error = #expect(throws: ConversionError.self) {
            try convert(Fixtures.bytes("csv/csvkit__null_byte.csv"), .csv, .json)
        }
        #expect(error?.message.contains("NUL") == true)
    }

    /// Shift JIS (markitdown's fixture, with an NEC kanji only CP932 has) is detected, not read as
    /// Windows-1252 mojibake.
    @Test func shiftJISIsDetected() throws {
        let out = try convert(Fixtures.bytes("csv/markitdown__test_mskanji.csv"), .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows[2]["名前"] as? String == "髙橋淳")
        #expect(rows[2]["住所"] as? String == "名古屋")
        #expect(out.warnings == ["The CSV file is not valid UTF-8; it was read as CP932, the encoding detected."])
    }

    /// A file cut inside its last character keeps the rest: that byte becomes U+FFFD, counted.
    @Test func aCutCharacterIsReplacedNotTheEncoding() throws {
        let bytes = try Fixtures.bytes("csv/markitdown__test_mskanji.csv").dropLast(3)  // "\r\n" and half of 屋
        let out = try convert(Array(bytes), .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows[2]["名前"] as? String == "髙橋淳")
        #expect(rows[2]["住所"] as? String == "名古\u{FFFD}")
        #expect(out.warnings == ["The CSV file is not valid UTF-8; it was read as CP932, the encoding detected. 1 byte(s) not valid in it were replaced by U+FFFD."])
    }

    /// Thai in TIS-620 takes three UTF-8 bytes a character: iconv's output grows past its first
    /// buffer (twice the input) and nothing is lost.
    @Test func singleByteThaiGrowsTheOutput() throws {
        let thai = "ชื่อ,เมือง\n" + String(repeating: "สมชาย,กรุงเทพมหานคร\n", count: 50)
        let cp874: [UInt8] = thai.unicodeScalars.map { s in
            s.value < 0x80 ? UInt8(s.value) : UInt8(s.value - 0x0E00 + 0xA0)  // TIS-620: U+0E01… at 0xA1…
        }
        let out = try convert(cp874, .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows.count == 50)
        #expect(rows.allSatisfy { $0["เมือง"] as? String == "กรุงเทพมหานคร" })
    }

    /// UTF-8 with one stray byte stays UTF-8 (uchardet alone guesses Windows-1250 for this one):
    /// that byte becomes U+FFFD, the rest is kept.
    @Test func mostlyUTF8KeepsItsText() throws {
        var bytes = Array(("name,note\n" + String(repeating: "Zoë,naïve café — “quoted” ✓ 東京\n", count: 20)).utf8)
        bytes.insert(0xFF, at: 10)  // before a row: one bad sequence
        let out = try convert(bytes, .csv, .json)
        let text = String(decoding: out.bytes, as: UTF8.self)
        #expect(text.contains("\u{FFFD}"))
        #expect(text.components(separatedBy: "naïve café — “quoted”").count == 21)
        #expect(out.warnings == ["The CSV file is not valid UTF-8: 1 invalid byte sequence(s) were replaced by U+FFFD."])
    }

    @Test func latin1FallsBackWithWarning() throws {
        let out = try convert(Fixtures.bytes("csv/csvkit__test_latin1.csv"), .csv, .json)
        #expect(out.warnings.contains { $0.contains("read as WINDOWS-1252, the encoding detected") })
        #expect(String(decoding: out.bytes, as: UTF8.self).contains("©"))
    }

    @Test func byteOrderMarkIsStripped() throws {
        let out = try convert(Fixtures.bytes("csv/csvkit__test_utf8_bom.csv"), .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows.first?.keys.contains("foo") == true)
    }

    @Test func raggedRowsArePaddedWithWarning() throws {
        let out = try convert(Fixtures.bytes("csv/csvkit__bad.csv"), .csv, .json)
        let rows = try #require(try jsonObject(out.bytes) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.count == 4 })
        #expect(out.warnings.contains { $0.contains("padded") })
    }

    @Test func irisMatchesGolden() throws {
        let out = try convert(Fixtures.bytes("csv/csvkit__iris.csv"), .csv, .json)
        #expect(try Fixtures.matchesGolden(out.bytes, "csv/csvkit__iris.golden.json"))
        #expect(out.metadata.properties["rows"] == 150)
    }
}
