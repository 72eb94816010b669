import Gate
import PostgresNIO

/// The text of a statement that runs as a named prepared statement: Postgres parses
/// and plans it once per connection instead of on every execution: parsing and
/// planning led Postgres's profile of a submission before (bench/HISTORY.md "Earlier
/// round"). `sql` is built once, from the same interpolation the executions use.
///
/// Parameter types are taken from the values of the first execution on each connection;
/// a NULL there leaves the type to Postgres. So a placeholder that can be NULL must be
/// cast to exactly the type its Swift value encodes to (`String` → `::text`, `Int` →
/// `::int8`, `Date` → `::timestamptz`), or a later non-NULL value would not match.
protocol PreparedShape {
    static var name: String { get }
    static var sql: String { get }
}

/// Runs `query` as the prepared statement `Shape`. Decoding stays with the caller.
struct PreparedQuery<Shape: PreparedShape>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { Shape.name }
    static var sql: String { Shape.sql }

    let bindings: PostgresBindings

    init(_ query: PostgresQuery) {
        // A statement whose text varied would run with the first variant's text.
        precondition(query.sql == Shape.sql, "\(Shape.name): the SQL text differs from the prepared statement's")
        bindings = query.binds
    }

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
