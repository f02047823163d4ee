/// Parquet's value and level encodings
/// (https://github.com/apache/parquet-format/blob/master/Encodings.md): the RLE / bit-packing
/// hybrid, DELTA_BINARY_PACKED and the byte-array deltas. Decoders check every length against the
/// bytes they were given.
enum ParquetEncoding {
    static let plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    static let deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    static func corrupt(_ what: String) -> ConversionError {
        ConversionError(.malformedInput, "The Parquet file is corrupt: \(what).")
    }
}

/// A cursor over a page's bytes.
struct ByteCursor {
    let bytes: [UInt8]
    var pos: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        pos = from
        end = to ?? bytes.count
    }

    var remaining: Int { end - pos }

    mutating func byte() throws -> UInt8 {
        guard pos < end else { throw ParquetEncoding.corrupt("its data ends before what its headers declare") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift <= 63 else { throw ParquetEncoding.corrupt("a variable-length integer is too long") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func le32() throws -> UInt32 {
        guard remaining >= 4 else { throw ParquetEncoding.corrupt("a page ends early") }
        defer { pos += 4 }
        return UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16 | UInt32(bytes[pos + 3]) << 24
    }

    mutating func le64() throws -> UInt64 {
        let lo = UInt64(try le32())
        return lo | UInt64(try le32()) << 32
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw ParquetEncoding.corrupt("a value runs past the end of its page") }
        defer { pos += n }
        return bytes[pos..<pos + n]
    }

    /// Reads `count` values of `width` bits packed LSB first.
    mutating func unpack(count: Int, width: Int, into out: inout [UInt64]) throws {
        guard width > 0 else { out.append(contentsOf: repeatElement(0, count: count)); return }
        guard width <= 64 else { throw ParquetEncoding.corrupt("a bit width is over 64") }
        let (totalBits, overflow) = count.multipliedReportingOverflow(by: width)
        guard count >= 0, !overflow, totalBits <= remaining * 8 else {
            throw ParquetEncoding.corrupt("bit-packed values run past the end of their page")
        }
        let nbytes = (totalBits + 7) / 8
        guard nbytes <= remaining else { throw ParquetEncoding.corrupt("bit-packed values run past the end of their page") }
        var bitPos = pos * 8
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        for _ in 0..<count {
            var v: UInt64 = 0
            var got = 0
            var bp = bitPos
            while got < width {
                let byteIndex = bp >> 3
                let shift = bp & 7
                let b = UInt64(bytes[byteIndex] >> UInt8(shift))
                v |= b << UInt64(got)
                let taken = 8 - shift
                got += taken
                bp += taken
            }
            out.append(v & mask)
            bitPos += width
        }
        pos += nbytes
    }
}

/// The RLE / bit-packing hybrid of levels and dictionary indices.
struct RLEDecoder {
    /// Decodes `count` values (fewer if the data ends; the caller checks).
    static func decode(_ cursor: inout ByteCursor, width: Int, count: Int) throws -> [UInt64] {
        guard width >= 0, width <= 32 else { throw ParquetEncoding.corrupt("an RLE bit width is \(width)") }
        var out: [UInt64] = []
        out.reserveCapacity(min(count, 1 << 20))  // counts come from headers: grow rather than trust them
        let valueBytes = (width + 7) / 8
        while out.count < count && cursor.remaining > 0 {
            let header = try cursor.varint()
            if header & 1 == 1 {
                let groups = Int(header >> 1)
                guard groups <= cursor.remaining + 1 else { throw ParquetEncoding.corrupt("a bit-packed run is too long") }
                var run: [UInt64] = []
                run.reserveCapacity(groups * 8)
                // The last run may be cut short by the end of the data in writers that trim it.
                let available = min(groups * 8, cursor.remaining * 8 / max(width, 1))
                try cursor.unpack(count: width == 0 ? groups * 8 : available, width: width, into: &run)
                out.append(contentsOf: run.prefix(count - out.count))
            } else {
                let n = Int(header >> 1)
                var v: UInt64 = 0
                for k in 0..<valueBytes { v |= UInt64(try cursor.byte()) << UInt64(8 * k) }
                out.append(contentsOf: repeatElement(v, count: min(n, count - out.count)))
            }
        }
        return out
    }
}

/// Writes the RLE / bit-packing hybrid: runs of 8 or more equal values as RLE, the rest bit-packed.
struct RLEEncoder {
    static func encode(_ values: [UInt32], width: Int) -> [UInt8] {
        var out: [UInt8] = []
        var w = Thrift.Writer()
        func varint(_ v: Int) { w.out.removeAll(keepingCapacity: true); w.varint(UInt64(v)); out += w.out }
        let valueBytes = (width + 7) / 8
        var i = 0
        let n = values.count
        var pending: [UInt32] = []  // literal values waiting for a bit-packed run (multiple of 8 when flushed mid-stream)
        func flushPacked() {
            guard !pending.isEmpty else { return }
            let groups = (pending.count + 7) / 8
            varint(groups << 1 | 1)
            var acc: UInt64 = 0, bits = 0
            for k in 0..<(groups * 8) {
                let v = k < pending.count ? UInt64(pending[k]) : 0
                acc |= v << UInt64(bits)
                bits += width
                while bits >= 8 { out.append(UInt8(truncatingIfNeeded: acc)); acc >>= 8; bits -= 8 }
            }
            if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
            pending.removeAll(keepingCapacity: true)
        }
        while i < n {
            var j = i + 1
            while j < n && values[j] == values[i] { j += 1 }
            let run = j - i
            if run >= 8 && pending.count % 8 == 0 {
                flushPacked()
                varint(run << 1)
                for k in 0..<valueBytes { out.append(UInt8(truncatingIfNeeded: values[i] >> UInt32(8 * k))) }
                i = j
            } else {
                // Fill the literal group up to a multiple of 8 before a run can start.
                let take = run >= 8 ? min(run, 8 - pending.count % 8) : run
                pending.append(contentsOf: values[i..<i + take])
                i += take
            }
        }
        flushPacked()
        return out
    }
}

/// DELTA_BINARY_PACKED for INT32 / INT64 (and the lengths of the byte-array deltas).
enum DeltaBinaryPacked {
    static func decode(_ c: inout ByteCursor, limit: Int) throws -> [Int64] {
        let blockSize = Int(try c.varint())
        let miniblocks = Int(try c.varint())
        let total = Int(try c.varint())
        var last = try c.zigzag()
        guard blockSize > 0, blockSize <= 1 << 20, blockSize % 128 == 0, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0, total >= 0, total <= limit else {
            throw ParquetEncoding.corrupt("a DELTA_BINARY_PACKED header is invalid")
        }
        var out: [Int64] = []
        out.reserveCapacity(min(total, 1 << 20))
        if total > 0 { out.append(last) }
        let perMini = blockSize / miniblocks
        var scratch: [UInt64] = []
        while out.count < total {
            let minDelta = try c.zigzag()
            var widths: [Int] = []
            for _ in 0..<miniblocks { widths.append(Int(try c.byte())) }
            for m in 0..<miniblocks where out.count < total {
                scratch.removeAll(keepingCapacity: true)
                try c.unpack(count: perMini, width: widths[m], into: &scratch)
                for d in scratch where out.count < total {
                    last = last &+ minDelta &+ Int64(bitPattern: d)
                    out.append(last)
                }
            }
        }
        return out
    }
}
