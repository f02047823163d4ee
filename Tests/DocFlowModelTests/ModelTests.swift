import DocFlowModel
import Testing

@Suite struct TemporalTests {
    @Test func civilDatesRoundTripOverFourCenturies() {
        for days in stride(from: Int64(-146_097), through: 146_097, by: 37) {
            let (y, m, d) = CivilTime.civil(fromDays: days)
            #expect(CivilTime.days(year: y, month: m, day: d) == days)
        }
        #expect(CivilTime.dateText(days: 0) == "1970-01-01")
        #expect(CivilTime.dateText(days: -1) == "1969-12-31")
        #expect(CivilTime.dateText(days: 11_016) == "2000-02-29")
    }

    @Test func textIsReadStrictly() {
        #expect(TemporalText.days("2024-02-29") == CivilTime.days(year: 2024, month: 2, day: 29))
        #expect(TemporalText.days("2023-02-29") == nil)
        #expect(TemporalText.days("2024-2-29") == nil)
        #expect(TemporalText.micros("1970-01-01T00:00:01.5Z").map { [$0.value, $0.zoned ? 1 : 0] } == [1_500_000, 1])
        #expect(TemporalText.micros("1970-01-01 01:00+01:00")?.value == 0)
        #expect(TemporalText.micros("1970-01-01T00:00:00.1234567") == nil)  // past µs: not a timestamp
    }
}

@Suite struct HubTests {
    @Test func tablesHoldRowsAsTypedColumns() {
        let t = Table(columns: [Column(name: "n", type: .int64), Column(name: "s", type: .string)],
                      rows: [[.int(1), .string("a")], [.null, .string("b")]])
        #expect(t.data.count == 2 && t.data[0].count == 2)
        #expect(t.row(1) == [.null, .string("b")])
        #expect(t.rows == [[.int(1), .string("a")], [.null, .string("b")]])
    }

    @Test func plainTextIsWhatAReaderSees() {
        let inlines: [Inline] = [.text("a "), .strong([.text("b")]), .softBreak, .link(url: "https://x", title: nil, [.text("c")]),
                                 .lineBreak, .code("d"), .raw(format: "html", "<br>")]
        #expect(Inline.plainText(inlines) == "a b c\nd")
    }
}
