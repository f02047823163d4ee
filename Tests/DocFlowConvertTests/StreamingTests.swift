import DocFlowConvert
import DocFlowCore
import DocFlowModel
import Foundation
import Testing

/// Tabular conversions hand tables over in batches (`TableStream`) from a mapped input
/// (`InputBytes`) to a sink. These check what only shows past one batch (131,072 records): values
/// and types stay the same across batch boundaries, and a mapped input's pages handed back are
/// read again correctly.
@Suite struct StreamingTests {
    /// A temporary file holding `bytes`, removed when the test ends.
    final class TempFile {
        let path = NSTemporaryDirectory() + "/docflow-stream-\(UUID().uuidString)"
        init(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
        deinit { unlink(path) }
    }

    func batches(_ stream: TableStream) throws -> [Table] {
        var out: [Table] = []
        while let t = try stream.next() { out.append(t) }
        return out
    }

    @Test func releasedPagesOfAMappedFileReadTheSameAgain() throws {
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        let file = try TempFile(bytes)
        let input = try #require(InputBytes(path: file.path))
        #expect(input.count == bytes.count)
        #expect(Array(input.buffer) == bytes)
        input.release(0..<input.count)
        input.release(5..<4099)  // not a whole page: nothing to hand back, nothing broken
        #expect(Array(input.buffer) == bytes)
        #expect(InputBytes(path: file.path + ".missing") == nil)
        let empty = try TempFile([])
        #expect(try #require(InputBytes(path: empty.path)).count == 0)
    }

    @Test func csvValuesAndTypesHoldAcrossBatches() throws {
        // 300,000 records: three batches. Only the last timestamp has a zone, only a late row
        // breaks `n`'s integers — the types are the whole file's, in every batch.
        let rows = 300_000
        var csv = "id,n,at,s\n"
        for i in 0..<rows {
            let n = i == 250_000 ? "x" : String(i % 7)
            let at = i == rows - 1 ? "2024-05-06T07:08:09Z" : "2024-05-06T07:08:09"
            csv += "\(i),\(n),\(at),\"q,\(i)\"\n"
        }
        let file = try TempFile(Array(csv.utf8))
        let stream = try CSVReader().stream(try #require(InputBytes(path: file.path)), context: ConversionContext())
        #expect(stream.columns.map(\.type) == [.int64, .string, .timestamp, .string])
        #expect(stream.rowCount == rows)
        let parts = try batches(stream)
        #expect(parts.count == 3)
        #expect(parts.map(\.rowCount).reduce(0, +) == rows)
        #expect(parts.allSatisfy { $0.data[2].utc })
        var next = 0
        for t in parts {
            for r in [0, t.rowCount - 1] {
                let i = next + r
                #expect(t.row(r)[0] == .int(Int64(i)))
                #expect(t.row(r)[3] == .string("q,\(i)"))
            }
            next += t.rowCount
        }
        // Through the converter from the file: every timestamp written as the UTC instant it is.
        let sink = MemorySink()
        _ = try FormatRegistry.standard.convert(.file(file.path), from: .csv, to: .csv, sink: sink, context: ConversionContext())
        let lines = String(decoding: Array(sink.parts.joined()), as: UTF8.self).split(separator: "\r\n")
        #expect(lines.count == rows + 1)
        #expect(lines[1] == "0,0,2024-05-06T07:08:09Z,\"q,0\"")
        #expect(lines[250_001] == "250000,x,2024-05-06T07:08:09Z,\"q,250000\"")
    }

    @Test func aHeaderRowThatIsDataLeadsTheFirstBatch() throws {
        let rows = 140_000
        let csv = (0..<rows).map { "\($0),\($0 * 2)" }.joined(separator: "\n")
        let stream = try CSVReader().stream(InputBytes(Array(csv.utf8)), context: ConversionContext())
        #expect(stream.columns.map(\.name) == ["column_1", "column_2"])
        let parts = try batches(stream)
        #expect(parts.map(\.rowCount).reduce(0, +) == rows)
        #expect(parts[0].row(0) == [.int(0), .int(0)])
        #expect(parts[0].row(1) == [.int(1), .int(2)])
        #expect(parts.last!.row(parts.last!.rowCount - 1) == [.int(Int64(rows - 1)), .int(Int64(2 * (rows - 1)))])
    }

    @Test func parquetRowGroupsStreamOneByOne() throws {
        let rows = 5_500
        let csv = "k,v,t\n" + (0..<rows).map { "\($0),\(Double($0) / 4),w\($0 % 13)" }.joined(separator: "\n")
        let parquet = try convert(Array(csv.utf8), .csv, .parquet, options: ["row_group_rows": 1000]).bytes
        let file = try TempFile(parquet)
        let stream = try ParquetReader().stream(try #require(InputBytes(path: file.path)), context: ConversionContext())
        #expect(stream.rowCount == rows)
        let parts = try batches(stream)
        #expect(parts.map(\.rowCount) == [1000, 1000, 1000, 1000, 1000, 500])
        #expect(parts[3].row(999) == [.int(3999), .double(3999.0 / 4), .string("w\(3999 % 13)")])
        // And on to CSV through the converter: the same lines as the CSV went in.
        let sink = MemorySink()
        let summary = try FormatRegistry.standard.convert(.file(file.path), from: .parquet, to: .csv, sink: sink, context: ConversionContext())
        #expect(summary.metadata.properties["rows"] == .number(rows))
        let back = String(decoding: Array(sink.parts.joined()), as: UTF8.self).split(separator: "\r\n")
        #expect(back.count == rows + 1)
        #expect(back[4001] == "4000,1000.0,w\(4000 % 13)")
        #expect(back[4002] == "4001,1000.25,w\(4001 % 13)")
    }

    @Test func flatJSONRecordsStreamAcrossBatches() throws {
        // A key missing from late records is null there; a zoned timestamp in the middle makes
        // the whole column UTC.
        let rows = 200_000
        var json = "["
        for i in 0..<rows {
            if i > 0 { json += "," }
            let at = i == 100_000 ? "2024-01-01T00:00:00+02:00" : "2024-01-01T00:00:00"
            json += i < 150_000 ? "{\"a\":\(i),\"b\":\"x\(i)\",\"at\":\"\(at)\"}" : "{\"a\":\(i),\"at\":\"\(at)\"}"
        }
        json += "]"
        let file = try TempFile(Array(json.utf8))
        let stream = try JSONReader().stream(try #require(InputBytes(path: file.path)), context: ConversionContext())
        #expect(stream.columns.map(\.type) == [.int64, .string, .timestamp])
        let parts = try batches(stream)
        #expect(parts.count == 2)
        #expect(parts.allSatisfy { $0.data[2].utc })
        let last = parts[1]
        #expect(last.row(last.rowCount - 1) == [.int(Int64(rows - 1)), .null, .temporal("2024-01-01T00:00:00Z")])
        #expect(parts[0].row(5) == [.int(5), .string("x5"), .temporal("2024-01-01T00:00:00Z")])
        #expect(parts[0].rowCount == 131_072)
        #expect(parts[0].row(100_000) == [.int(100_000), .string("x100000"), .temporal("2023-12-31T22:00:00Z")])
    }

    @Test func xlsxRowsComeBackFromTheSpillWithTheWholeSheetsTypes() throws {
        // 70,000 rows: two batches. `n` is numbers but for row 69,000, an integer past 2^53 that
        // the Excel writer stores as text: the column is text in the first batch too (numbers as
        // their digits). Shared strings from real Excel files are covered by the fixtures'
        // agreement with openpyxl.
        let rows = 70_000
        let csv = "id,n,s\n" + (0..<rows).map { "\($0),\($0 == 69_000 ? "9007199254740993" : String($0 % 5)),s\($0 % 3)" }.joined(separator: "\n")
        let xlsx = try convert(Array(csv.utf8), .csv, .xlsx).bytes
        let file = try TempFile(xlsx)
        let stream = try XLSXReader().stream(try #require(InputBytes(path: file.path)), context: ConversionContext())
        #expect(stream.columns.map(\.type) == [.int64, .string, .string])
        let parts = try batches(stream)
        #expect(parts.map(\.rowCount) == [65_536, rows - 65_536])
        #expect(parts[0].row(7) == [.int(7), .string("2"), .string("s1")])
        #expect(parts[1].row(69_000 - 65_536) == [.int(69_000), .string("9007199254740993"), .string("s0")])
    }

    @Test func aFailedWriteLeavesNoOutputAndSaysSo() throws {
        // A sink that refuses its second part (a full disk): the conversion stops with SinkError.
        final class FullDisk: ByteSink {
            var count = 0
            func write(_ part: [UInt8]) throws {
                if count > 0 { throw SinkError(errno: ENOSPC) }
                count += part.count
            }
        }
        let csv = "a,b\n" + (0..<200_000).map { "\($0),\($0)" }.joined(separator: "\n")
        #expect(throws: SinkError.self) {
            _ = try FormatRegistry.standard.convert(.bytes(Array(csv.utf8)), from: .csv, to: .json, sink: FullDisk(), context: ConversionContext())
        }
    }
}
