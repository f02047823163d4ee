import DocFlowCore
import DocFlowModel
import Foundation

/// A sheet's rows on their way from the XML to the table: a column's type is only known once its
/// last cell is read, and a million rows of cells must not wait in memory. Rows go to an unlinked
/// temporary file (gone with the process, whatever happens) in a compact form — a tag per cell,
/// numbers as 8 bytes, text as its UTF-8 — and come back batch by batch once the types are known.
final class SheetSpill {
    typealias Cell = XLSXReader.Cell

    private let fd: Int32
    /// The workbook's shared strings, which `.shared` cells point into.
    private let strings: [String]
    private var out: [UInt8] = []
    private var inBuf: [UInt8] = []
    private var inPos = 0
    private(set) var rows = 0
    private var rowsRead = 0

    init(strings: [String]) throws {
        self.strings = strings
        let path = NSTemporaryDirectory() + "/docflow-sheet-\(UUID().uuidString)"
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SinkError(errno: errno) }
        unlink(path)
        out.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    private enum Tag: UInt8 { case empty, int, double, bool, text, date, dateTime, shared }

    func append(_ row: ArraySlice<Cell>) throws {
        put(UInt64(row.count))
        for cell in row {
            switch cell {
            case .empty: out.append(Tag.empty.rawValue)
            case .int(let i): out.append(Tag.int.rawValue); put(UInt64(bitPattern: i))
            case .double(let d): out.append(Tag.double.rawValue); put(d.bitPattern)
            case .bool(let b): out.append(Tag.bool.rawValue); out.append(b ? 1 : 0)
            case .date(let d): out.append(Tag.date.rawValue); put(UInt64(bitPattern: d))
            case .dateTime(let us): out.append(Tag.dateTime.rawValue); put(UInt64(bitPattern: us))
            case .shared(let i): out.append(Tag.shared.rawValue); put(UInt64(i))
            case .text(var s):
                out.append(Tag.text.rawValue)
                s.withUTF8 { u in put(UInt64(u.count)); out.append(contentsOf: u) }
            }
        }
        rows += 1
        if out.count >= 1 << 20 { try flush() }
    }

    @inline(__always) private func put(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private func flush() throws {
        guard out.withUnsafeBytes({ FileSink.writeAll(fd, $0) }) else { throw SinkError(errno: errno) }
        out.removeAll(keepingCapacity: true)
    }

    /// Ends writing; reading starts from the first row.
    func rewind() throws {
        try flush()
        out = []
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SinkError(errno: errno) }
    }

    /// Makes `n` unread bytes available in `inBuf` from `inPos`.
    private func need(_ n: Int) throws {
        if inBuf.count - inPos >= n { return }
        inBuf.removeSubrange(0..<inPos)
        inPos = 0
        var chunk = [UInt8](repeating: 0, count: max(n - inBuf.count, 1 << 20))
        while inBuf.count < n {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw ConversionError(.internal, "The sheet's rows could not be read back from temporary space.") }
            inBuf.append(contentsOf: chunk[0..<got])
        }
    }

    @inline(__always) private func take() throws -> UInt64 {
        try need(8)
        let v = inBuf.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: inPos, as: UInt64.self)) }
        inPos += 8
        return v
    }

    /// Up to `limit` rows into columns of the settled types (`width` of them); nil after the last.
    func next(_ limit: Int, types: [ColumnType]) throws -> [ColumnValues]? {
        guard rowsRead < rows else { return nil }
        let n = min(limit, rows - rowsRead)
        var cols = types.map { ColumnValues(type: $0, capacity: n) }
        for _ in 0..<n {
            let count = Int(try take())
            for c in 0..<count {
                try need(1)
                let tag = inBuf[inPos]
                inPos += 1
                let cell: Cell
                switch Tag(rawValue: tag) {
                case .empty?: cell = .empty
                case .int?: cell = .int(Int64(bitPattern: try take()))
                case .double?: cell = .double(Double(bitPattern: try take()))
                case .bool?: try need(1); cell = .bool(inBuf[inPos] != 0); inPos += 1
                case .date?: cell = .date(Int64(bitPattern: try take()))
                case .dateTime?: cell = .dateTime(Int64(bitPattern: try take()))
                case .text?:
                    let len = Int(try take())
                    try need(len)
                    if c < cols.count && cols[c].type == .string {  // the common case: no String in between
                        inBuf.withUnsafeBufferPointer { cols[c].append(utf8: UnsafeBufferPointer(rebasing: $0[inPos..<inPos + len])) }
                        inPos += len
                        continue
                    }
                    cell = .text(String(decoding: inBuf[inPos..<inPos + len], as: UTF8.self))
                    inPos += len
                case .shared?:
                    let i = Int(try take())
                    guard i >= 0 && i < strings.count else { throw ConversionError(.internal, "The sheet's rows came back damaged from temporary space.") }
                    if c < cols.count && cols[c].type == .string { cols[c].append(string: strings[i]); continue }
                    cell = .text(strings[i])
                case nil: throw ConversionError(.internal, "The sheet's rows came back damaged from temporary space.")
                }
                if c < cols.count { XLSXReader.append(cell, to: &cols[c]) }
            }
            for c in count..<max(count, cols.count) { cols[c].appendNull() }
        }
        rowsRead += n
        return cols
    }
}
