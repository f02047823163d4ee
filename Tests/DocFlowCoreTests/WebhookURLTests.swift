import DocFlowCore
import Testing

/// Callback URLs: only http(s), and only hosts whose addresses are public (no SSRF into the
/// service's own network, the metadata service or loopback).
@Suite struct WebhookURLTests {
    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
    func loopbackOnlyWhenAllowed(_ address: String) {
        #expect(!WebhookURL.isAllowed(address))
        #expect(WebhookURL.isAllowed(address, allowLoopback: true))
    }

    @Test(arguments: ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                      "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "fc00::1", "fd12:3456::1",
                      "fe80::1", "ff02::1", "::", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2001:db8::1",
                      "not an address"])
    func privateReservedAndMalformedAreRefused(_ address: String) {
        #expect(!WebhookURL.isAllowed(address, allowLoopback: true))
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"])
    func publicAddressesAreAllowed(_ address: String) {
        #expect(WebhookURL.isAllowed(address))
    }

    @Test func onlyHTTPAndHTTPSWithoutCredentials() throws {
        #expect(try WebhookURL("https://example.com/hook").port == 443)
        #expect(try WebhookURL("http://example.com:8080/h?x=1").port == 8080)
        #expect(try WebhookURL("http://[2001:db8::1]:81/").host == "2001:db8::1")
        for bad in ["ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "http://user:pw@example.com/",
                    "https://example.com/#frag", "example.com/hook", "http:///nohost", String(repeating: "a", count: 3000)] {
            #expect(throws: WebhookURL.Refusal.self) { try WebhookURL(bad) }
        }
    }

    @Test func literalAddressesAreCheckedToo() throws {
        #expect(throws: WebhookURL.Refusal.self) { try WebhookURL("http://169.254.169.254/latest/meta-data").resolve() }
        #expect(throws: WebhookURL.Refusal.self) { try WebhookURL("http://127.0.0.1:9/").resolve() }
        #expect(try WebhookURL("http://127.0.0.1:9/").resolve(allowLoopback: true) == "127.0.0.1")
    }
}
