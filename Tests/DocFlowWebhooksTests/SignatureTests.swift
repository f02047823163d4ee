import DocFlowWebhooks
import Testing

/// The webhook signature against Python's `hmac` (the reference a receiver would use):
/// hmac.new(b"whsec_test", b'1796300000.{"type": "job_done"}', hashlib.sha256).hexdigest()
@Suite struct SignatureTests {
    @Test func matchesTheReferenceHMAC() {
        #expect(WebhookSender.signature(secret: "whsec_test", timestamp: 1_796_300_000, body: "{\"type\": \"job_done\"}")
                == "t=1796300000,v1=1097ddcdfe770f14bcbcf437c178c79bb156dfc297b9b23e793a9abfeb5d578a")
    }
}
