import GateCore
import Hummingbird

/// One page of a cursor-paginated list: `items` and the cursor of the next page.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    let items: [Item]
    let nextCursor: String?

    /// From `limit + 1` fetched records: the extra one only says that there is a next page.
    init<Record>(_ records: [Record], limit: Int, cursor: (Record) -> String, view: (Record) -> Item) {
        let page = records.prefix(limit)
        items = page.map(view)
        nextCursor = records.count > limit ? page.last.map(cursor) : nil
    }

    init(items: [Item]) {
        self.items = items
        nextCursor = nil
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

enum Pagination {
    /// `limit` from the query: 1…`max` (100 unless a route allows more), default 50;
    /// anything else is a 400.
    static func limit(_ request: Request, default fallback: Int = 50, max: Int = 100) throws -> Int {
        guard let raw = request.uri.queryParameters.get("limit") else { return fallback }
        guard let limit = Int(raw), (1...max).contains(limit) else {
            throw Problem(.badRequest, detail: "limit must be a whole number from 1 to \(max)")
        }
        return limit
    }

    /// `cursor` from the query: the last id of the previous page, which must be a
    /// well-formed id of the listed kind (a 400 otherwise); nil on the first page.
    static func cursor(_ request: Request, idPrefix: String) throws -> String? {
        guard let cursor = request.uri.queryParameters.get("cursor") else { return nil }
        guard SortableID.isWellFormed(cursor, prefix: idPrefix) else { throw Problem(.badRequest, detail: "invalid cursor") }
        return cursor
    }

    /// `cursor` of the API key listing: a key id (16 base32 characters), else a 400.
    static func keyCursor(_ request: Request) throws -> String? {
        guard let cursor = request.uri.queryParameters.get("cursor") else { return nil }
        guard cursor.utf8.count == 16, Base32.isValid(cursor) else { throw Problem(.badRequest, detail: "invalid cursor") }
        return cursor
    }
}
