import DocFlowCore
import Foundation
import DocFlowModel

/// Turns the bytes of a text file into UTF-8: BOM-marked UTF-8 and UTF-16 are honoured, valid UTF-8
/// passes through, anything else is read in the encoding detected (`Charset`), with a warning.
enum TextDecoding {
    /// `strayNULs`: a document may carry a few NUL bytes (a text with a stray control character);
    /// they become U+FFFD with a warning. Data files (CSV) and anything with many NULs are refused.
    static func utf8(_ bytes: [UInt8], context: ConversionContext, what: String, strayNULs: Bool = false) throws -> [UInt8] {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return try validated(Array(bytes.dropFirst(3)), what: what) }
        if bytes.starts(with: [0xFF, 0xFE]) { return try utf16(bytes.dropFirst(2), littleEndian: true, what: what) }
        if bytes.starts(with: [0xFE, 0xFF]) { return try utf16(bytes.dropFirst(2), littleEndian: false, what: what) }
        if bytes.withUnsafeBytes({ $0.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }) {
            let nuls = bytes.lazy.filter { $0 == 0 }.count
            guard strayNULs, nuls <= 8 || nuls * 1000 <= bytes.count else {
                throw ConversionError(.malformedInput, "The \(what) file contains NUL bytes: it looks like binary data, not text.")
            }
            context.warn("The \(what) file contains \(nuls) NUL byte(s); each was replaced by U+FFFD.")
            var cleaned: [UInt8] = []
            cleaned.reserveCapacity(bytes.count + 2 * nuls)
            for b in bytes { if b == 0 { cleaned += [0xEF, 0xBF, 0xBD] } else { cleaned.append(b) } }
            return try utf8(cleaned, context: context, what: what)
        }
        if isValidUTF8(bytes) { return bytes }
        return legacy(bytes, context: context, what: what)
    }

    /// Text that is not UTF-8: read in the encoding uchardet detects (Shift JIS, ISO-8859-7,
    /// Windows-1251, …) where iconv converts every byte of it; mostly UTF-8 with a few bad
    /// sequences, those replaced by U+FFFD; anything else as Windows-1252. The warning names the
    /// encoding, and so does the metadata (`encoding`).
    private static func legacy(_ bytes: [UInt8], context: ConversionContext, what: String) -> [UInt8] {
        // UTF-8 with a stray byte or two: legacy text hardly ever forms valid multi-byte sequences,
        // so many of them beside few bad ones is UTF-8 (uchardet, shown a bad byte, guesses a
        // single-byte encoding and the whole file would turn to mojibake). Judged on uchardet's sample.
        var bad = 0, wide = 0
        for s in String(decoding: bytes.prefix(Charset.sample), as: UTF8.self).unicodeScalars where s.value >= 0x80 {
            if s == "\u{FFFD}" { bad += 1 } else { wide += 1 }
        }
        let detected = wide >= 4 && bad * 4 <= wide ? "UTF-8" : bytes.withUnsafeBufferPointer { Charset.detect($0) }
        // A detected encoding that leaves a few bytes undefined is still the one (they become U+FFFD,
        // counted in the warning); many undefined bytes mean the guess was wrong.
        if let label = detected?.uppercased(), label != "UTF-8", label != "ASCII",
           case let name = Charset.superset(label), let (text, invalid) = bytes.withUnsafeBufferPointer({ Charset.utf8($0, from: name) }),
           invalid <= 8 || invalid * 1000 <= bytes.count {
            let replaced = invalid == 0 ? "" : " \(invalid) byte(s) not valid in it were replaced by U+FFFD."
            context.warn("The \(what) file is not valid UTF-8; it was read as \(name), the encoding detected.\(replaced)")
            context.report("encoding", .text(name))
            return text
        }
        if detected?.uppercased() == "UTF-8" {
            let text = String(decoding: bytes, as: UTF8.self)
            let replaced = text.unicodeScalars.lazy.filter { $0 == "\u{FFFD}" }.count
            context.warn("The \(what) file is not valid UTF-8: \(replaced) invalid byte sequence(s) were replaced by U+FFFD.")
            context.report("encoding", .text("UTF-8"))
            return Array(text.utf8)
        }
        context.warn("The \(what) file is not valid UTF-8; it was read as Windows-1252.")
        context.report("encoding", .text("WINDOWS-1252"))
        return Array(String(decoding: bytes.map { windows1252[Int($0)] }, as: UTF32.self).utf8)
    }

    private static func validated(_ bytes: [UInt8], what: String) throws -> [UInt8] {
        guard isValidUTF8(bytes) else {
            throw ConversionError(.encoding, "The \(what) file starts with a UTF-8 byte order mark but is not valid UTF-8.")
        }
        return bytes
    }

    private static func utf16(_ bytes: ArraySlice<UInt8>, littleEndian: Bool, what: String) throws -> [UInt8] {
        guard bytes.count % 2 == 0 else {
            throw ConversionError(.encoding, "The \(what) file is marked UTF-16 but has an odd number of bytes.")
        }
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            i += 2
        }
        var out: [UInt8] = []
        let failed = transcode(units.makeIterator(), from: UTF16.self, to: UTF8.self, stoppingOnError: true) { out.append($0) }
        if failed { throw ConversionError(.encoding, "The \(what) file is marked UTF-16 but holds invalid UTF-16.") }
        return out
    }

    /// UTF-8 validity (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), eight ASCII
    /// bytes at a time: data files are mostly ASCII and this runs over all of them.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isValidUTF8($0) }
    }

    /// Whether a mapped input can be read as it is: UTF-8 (with or without a BOM, whose length
    /// is returned) without NUL bytes. Checked 8 MB at a time, each run's pages handed back
    /// (`InputBytes.release`) once checked. nil: the input needs `utf8(_:)`'s decoding.
    static func plainUTF8(_ input: InputBytes) -> Int? {
        let b = input.buffer
        let skip = b.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if skip == 0 && (b.starts(with: [0xFF, 0xFE]) || b.starts(with: [0xFE, 0xFF])) { return nil }
        var lo = skip
        while lo < b.count {
            var hi = min(b.count, lo + (8 << 20))
            while hi < b.count && hi > lo && b[hi] & 0xC0 == 0x80 { hi -= 1 }  // not inside a character
            guard hi > lo else { return nil }
            let run = UnsafeBufferPointer(rebasing: b[lo..<hi])
            guard memchr(run.baseAddress!, 0, run.count) == nil, isValidUTF8(run) else { return nil }
            input.release(lo..<hi)
            lo = hi
        }
        return skip
    }

    static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        var i = 0
        while i < n {
            if i + 8 <= n {
                let word = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 { i += 8; continue }
            }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let len: Int, lo: UInt8, hi: UInt8
            switch c {
            case 0xC2...0xDF: len = 2; lo = 0x80; hi = 0xBF
            case 0xE0: len = 3; lo = 0xA0; hi = 0xBF
            case 0xE1...0xEC, 0xEE, 0xEF: len = 3; lo = 0x80; hi = 0xBF
            case 0xED: len = 3; lo = 0x80; hi = 0x9F
            case 0xF0: len = 4; lo = 0x90; hi = 0xBF
            case 0xF1...0xF3: len = 4; lo = 0x80; hi = 0xBF
            case 0xF4: len = 4; lo = 0x80; hi = 0x8F
            default: return false
            }
            guard i + len <= n, b[i + 1] >= lo, b[i + 1] <= hi else { return false }
            for k in 2..<len where b[i + k] & 0xC0 != 0x80 { return false }
            i += len
        }
        return true
    }

    /// Windows-1252 to Unicode scalar values (0x80...0x9F differ from Latin-1).
    static let windows1252: [UInt32] = {
        var table = (0..<256).map { UInt32($0) }
        let high: [UInt32] = [0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
                              0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
                              0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178]
        for (i, v) in high.enumerated() { table[0x80 + i] = v }
        return table
    }()
}
