import DocFlowCrypto
import Testing

/// FIPS 180-2's examples (and the empty message), fed whole and in pieces.
@Test func sha256MatchesTheStandardsExamples() {
    func hex(_ parts: [String]) -> String {
        let h = SHA256Hasher()
        for p in parts { h.update(Array(p.utf8)) }
        return h.finalizeHex()
    }
    #expect(hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(hex(["abc"]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    #expect(hex([long]) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(hex(Array(long).map { String($0) }) == hex([long]))
}
