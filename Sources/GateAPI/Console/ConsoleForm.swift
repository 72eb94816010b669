import Foundation
import Gate
import Hummingbird

/// A submitted console form (`application/x-www-form-urlencoded`, what browsers send
/// without JavaScript), checked against the session's CSRF token before anything else.
struct ConsoleForm: Sendable {
    /// Every field in order; a checkbox list repeats its name.
    let pairs: [(String, String)]

    init(pairs: [(String, String)]) {
        self.pairs = pairs
    }

    /// The first value of a field: a field repeated later cannot replace a checked one.
    subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    /// Forms are small: a rejection reason is at most 2,000 characters.
    static let maxBytes = 64 * 1024

    static func read(_ request: Request, context: AppRequestContext) async throws -> ConsoleForm {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw Problem(.unsupportedMediaType, detail: "The console accepts forms sent by its own pages only.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw Problem(.contentTooLarge, detail: "The form is larger than the console accepts.")
        }
        return ConsoleForm(pairs: parse(String(buffer: body)))
    }

    /// Reads the form and refuses it (403, audited) unless it carries the session's
    /// CSRF token: another site can make a browser post, but cannot read the token.
    static func readChecked(_ request: Request, context: AppRequestContext, audit: SecurityAudit) async throws -> ConsoleForm {
        let form = try await read(request, context: context)
        guard let session = context.consoleSession, ConsoleSignIn.csrfMatches(form["csrf"], session) else {
            if let workspace = context.workspace?.rawValue {
                try await audit.denied(
                    workspace: workspace, action: "console.csrf_refused", principal: context.principal,
                    reason: form["csrf"] == nil ? "csrf_missing" : "csrf_mismatch", request: request, context: context)
            }
            throw Problem(
                .forbidden,
                detail: "This form is not from your current console session (its security token is missing or old). Reload the page and try again.")
        }
        return form
    }

    static func parse(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]) else { return nil }
            return (name, parts.count > 1 ? decode(parts[1]) ?? "" : "")
        }
    }

    static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
