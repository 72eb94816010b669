import Foundation
import PostgresNIO
import Testing

/// What `EXPLAIN (ANALYZE, FORMAT JSON)` says a statement did: the rows it returned,
/// and the rows all its plan nodes produced or threw away over all their loops — the
/// work it did, in a unit that does not depend on the machine's speed. ANALYZE runs
/// the statement: a data-modifying one really modifies.
struct QueryPlan {
    let rows: Double
    let touched: Double
    let text: String
    /// Every node that ran: its "Node Type", relation, index, and rows over all loops.
    let nodes: [Node]

    struct Node {
        let type: String
        let relation: String?
        let index: String?
        let rows: Double
    }
}

extension AuthFixture {
    func explainAnalyze(_ query: PostgresQuery) async throws -> QueryPlan {
        var explain = query
        explain.sql = "EXPLAIN (ANALYZE, FORMAT JSON) " + explain.sql
        let statement = explain
        let text = try await db.withClient { client in
            for try await row in try await client.query(statement) {
                if let bytes = row.first?.bytes { return String(buffer: bytes) }
            }
            return ""
        }
        return try QueryPlan(json: text)
    }
}

extension QueryPlan {
    /// Reads the output of `EXPLAIN (ANALYZE, FORMAT JSON)`.
    init(json text: String) throws {
        let plan = try #require(
            ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]])?.first?["Plan"] as? [String: Any])
        func number(_ value: Any?) -> Double { (value as? Int).map(Double.init) ?? value as? Double ?? 0 }
        func touched(_ node: [String: Any]) -> Double {
            let own = ["Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck"]
                .reduce(0.0) { $0 + number(node[$1]) } * max(number(node["Actual Loops"]), 1)
            return own + ((node["Plans"] as? [[String: Any]]) ?? []).reduce(0.0) { $0 + touched($1) }
        }
        func nodes(_ node: [String: Any]) -> [QueryPlan.Node] {
            let own =
                number(node["Actual Loops"]) > 0
                ? [QueryPlan.Node(
                    type: node["Node Type"] as? String ?? "", relation: node["Relation Name"] as? String,
                    index: node["Index Name"] as? String,
                    rows: number(node["Actual Rows"]) * number(node["Actual Loops"]))] : []
            return own + ((node["Plans"] as? [[String: Any]]) ?? []).flatMap { nodes($0) }
        }
        self.init(rows: number(plan["Actual Rows"]), touched: touched(plan), text: text, nodes: nodes(plan))
    }
}

extension AuthFixture {
    /// The lines of `EXPLAIN (ANALYZE, BUFFERS)` for `query` (which runs).
    func explainBuffers(_ query: PostgresQuery) async throws -> [String] {
        var explain = query
        explain.sql = "EXPLAIN (ANALYZE, BUFFERS) " + explain.sql
        let statement = explain
        return try await db.withClient { db in
            var lines: [String] = []
            for try await (line) in try await db.query(statement).decode(String.self) { lines.append(line) }
            return lines
        }
    }
}

/// The lines of a plan that say what it cost: planning and execution time, buffers.
func planSummary(_ lines: [String]) -> String {
    lines.filter { $0.hasPrefix("Planning Time") || $0.hasPrefix("Execution Time") || $0.hasPrefix("  Buffers") }
        .joined(separator: "; ")
}
