import Foundation
import GateCore
import Testing

/// The strict RFC 3339 reading every date-time the API takes goes through.
@Suite struct RFC3339TextTests {
    @Test func utcTextIsTheSameInstantInAFormPostgresTakes() {
        #expect(RFC3339Text.utc("2021-01-01T00:00:00Z") == "2021-01-01T00:00:00Z")
        #expect(RFC3339Text.utc("2026-01-31T09:00:00.5+01:00") == "2026-01-31T08:00:00.500000Z")
        // Offsets beyond ±15:59 are RFC 3339 but not Postgres (schemathesis found the 500).
        #expect(RFC3339Text.utc("0311-03-05T13:11:16.4+20:24") == "0311-03-04T16:47:16.400000Z")
        #expect(RFC3339Text.utc("2016-12-31t23:59:60z") == "2017-01-01T00:00:00Z")
        #expect(RFC3339Text.utc("1969-12-31T23:59:59.999999Z") == "1969-12-31T23:59:59.999999Z")
        #expect(RFC3339Text.utc("2000-02-29T12:00:00-23:59") == "2000-03-01T11:59:00Z")
        // Past the years Postgres and the API handle: clamped (no event is that old or new).
        #expect(RFC3339Text.utc("0001-01-01T00:00:00+01:00") == "0001-01-01T00:00:00Z")
        #expect(RFC3339Text.utc("9999-12-31T23:59:59-23:59") == "9999-12-31T23:59:59.999999Z")
        for bad in ["2026-02-30T00:00:00Z", "2026-11-23 15:27:05Z", "2026-11-23T15:27Z", "2026-11-23T15:27:05+0100", "", "yesterday"] {
            #expect(RFC3339Text.utc(bad) == nil, "\(bad)")
        }
    }

    @Test func datesAreOnlyThoseOfYearsOneToNineThousandNineHundredNinetyNine() {
        #expect(RFC3339Text.date("2026-11-23T15:27:05Z") == Date(timeIntervalSince1970: 1_795_447_625))
        #expect(RFC3339Text.date("2026-11-23T16:27:05.25+01:00") == Date(timeIntervalSince1970: 1_795_447_625.25))
        #expect(RFC3339Text.date("0001-01-01T00:00:00Z") == Date(timeIntervalSince1970: -62_135_596_800))
        #expect(RFC3339Text.date("0001-01-01T00:00:00+01:00") == nil)
        #expect(RFC3339Text.date("2026-02-30T00:00:00Z") == nil)
    }
}
