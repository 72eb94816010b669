import Foundation
import HTTPTypes
import Testing

@testable import GateAPI

@Suite struct DenialAuditBudgetTests {
    let start = ContinuousClock.now

    @Test func aBurstIsRecordedThenTheRateAndTheLeftOutAreCounted() {
        let budget = DenialAuditBudget(perMinute: 60, burst: 2)
        #expect(budget.admit("10.0.0.1", now: start) == .record(unauditedBefore: 0))
        #expect(budget.admit("10.0.0.1", now: start) == .record(unauditedBefore: 0))
        for _ in 0..<3 { #expect(budget.admit("10.0.0.1", now: start) == .skip) }
        // Another address has its own bucket.
        #expect(budget.admit("10.0.0.2", now: start) == .record(unauditedBefore: 0))
        // One per second comes back; the row written says how many were left out.
        #expect(budget.admit("10.0.0.1", now: start + .milliseconds(500)) == .skip)
        #expect(budget.admit("10.0.0.1", now: start + .milliseconds(1500)) == .record(unauditedBefore: 4))
        #expect(budget.admit("10.0.0.1", now: start + .milliseconds(1600)) == .skip)
        // Refilling stops at the burst.
        #expect(budget.admit("10.0.0.1", now: start + .seconds(600)) == .record(unauditedBefore: 1))
        #expect(budget.admit("10.0.0.1", now: start + .seconds(600)) == .record(unauditedBefore: 0))
        #expect(budget.admit("10.0.0.1", now: start + .seconds(600)) == .skip)
    }

    @Test func memoryIsBoundedAndIdleAddressesAreForgotten() {
        let budget = DenialAuditBudget(perMinute: 60, burst: 1, capacity: 3)
        for address in ["a", "b", "c"] { #expect(budget.admit(address, now: start) == .record(unauditedBefore: 0)) }
        // Full, nobody idle: a newcomer shares the overflow bucket with the next ones.
        #expect(budget.admit("d", now: start) == .record(unauditedBefore: 0))
        #expect(budget.admit("e", now: start) == .skip)
        #expect(budget.trackedAddresses == 4)
        // "c" owes a count, so it is kept; "a" and "b" have refilled and go.
        #expect(budget.admit("c", now: start) == .skip)
        #expect(budget.admit("f", now: start + .seconds(2)) == .record(unauditedBefore: 0))
        #expect(budget.trackedAddresses == 3)
        #expect(budget.admit("c", now: start + .seconds(2)) == .record(unauditedBefore: 1))
    }

    /// The HTTP side: past the budget, a failed authentication is still a 401 but writes
    /// no audit row; the metric counts it; rows that are written carry the reason.
    @Test func aFloodOfBadKeysWritesABoundedNumberOfAuditRows() async throws {
        try await AuthFixture.with(environment: ["AUTH_DENIAL_AUDIT_BURST": "3", "AUTH_DENIAL_AUDIT_PER_MINUTE": "1"]) { fixture, client in
            for attempt in 0..<10 {
                let key = attempt.isMultiple(of: 2) ? "gk_not_a_key" : "nonsense"
                let response = try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(key))
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"gateapi\"") == true)
            }
            let rows = try await fixture.auditRows(action: "auth.denied")
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { $0.1 == "denied" && $0.2 != nil })
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("gateapi_auth_denials_unaudited_total ") }
            #expect(line.flatMap { Double($0.split(separator: " ").last!) } == 7)
            // A valid key is never held back by the failures of its address.
            let ok = try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(fixture.adminKey))
            #expect(ok.status == .ok)
        }
    }

    /// A valid key naming a workspace it is not a member of: 404 every time, but only its
    /// own budget of rows in that workspace's log; other sources keep theirs.
    @Test func aKeyProbingForeignWorkspacesWritesABoundedNumberOfAuditRows() async throws {
        try await AuthFixture.with(environment: ["AUTH_DENIAL_AUDIT_BURST": "3", "AUTH_DENIAL_AUDIT_PER_MINUTE": "1"]) { fixture, client in
            for _ in 0..<10 {
                let response = try await client.execute(uri: "/v1/workspaces/other/jobs", method: .get, headers: bearer(fixture.adminKey))
                #expect(response.status == .notFound)
            }
            let rows = try await fixture.auditRows(action: "authz.denied")
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { $0.1 == "denied" && $0.2 == "not_a_member" })
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("gateapi_auth_denials_unaudited_total ") }
            #expect(line.flatMap { Double($0.split(separator: " ").last!) } == 7)
            // The key's own workspace is unaffected, and a failed authentication from the
            // same client is audited from its address's budget.
            let ok = try await client.execute(uri: "/v1/workspaces/acme/jobs", method: .get, headers: bearer(fixture.adminKey))
            #expect(ok.status == .ok)
            let bad = try await client.execute(uri: "/v1/workspaces/other/jobs", method: .get, headers: bearer("gk_not_a_key"))
            #expect(bad.status == .unauthorized)
            #expect(try await fixture.auditRows(action: "auth.denied").count == 1)
        }
    }
}
