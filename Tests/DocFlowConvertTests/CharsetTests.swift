@testable import DocFlowConvert
import Testing

@Suite struct CharsetTests {
    /// An undefined byte met when the output buffer has under three bytes left: its U+FFFD makes
    /// room first. 42 Thai characters in TIS-620 fill 126 of the first 128 output bytes (twice the
    /// 64 input bytes), then 0xFF, which CP874 leaves undefined.
    @Test func anUndefinedByteAtTheBufferEndIsReplaced() throws {
        let thai: [UInt8] = Array(repeating: 0xA1, count: 42) + [0xFF] + Array(repeating: 0x61, count: 21)
        let (text, invalid) = try #require(thai.withUnsafeBufferPointer { Charset.utf8($0, from: "CP874") })
        #expect(invalid == 1)
        #expect(String(decoding: text, as: UTF8.self) == String(repeating: "\u{0E01}", count: 42) + "\u{FFFD}" + String(repeating: "a", count: 21))
    }

    @Test func anUnknownEncodingIsNil() {
        #expect([UInt8]([0x41]).withUnsafeBufferPointer { Charset.utf8($0, from: "NO-SUCH-ENCODING") } == nil)
    }
}
