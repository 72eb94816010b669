import HTTPTypes
import Hummingbird

/// A path the API serves, asked with a method it does not serve there: 405 with
/// `Allow` (RFC 9110 §15.5.6), rather than the 404 of a path that does not exist.
/// Added after every route, so it wraps only the router's not-found answer.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Each route template as components (`nil` for a parameter), with its methods.
    let templates: [(components: [Substring?], methods: [String])]
    /// The console's paths answer with a page, not problem+json.
    let consolePages: ConsolePages?

    init(routes: [Router<AppRequestContext>.RouteDescription], consolePages: ConsolePages? = nil) {
        self.consolePages = consolePages
        var methods: [String: Set<String>] = [:]
        for route in routes { methods[route.path.description, default: []].insert(route.method.rawValue) }
        templates = methods.map { path, methods in
            let components = path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }
            return (components, methods.sorted())
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            var problem = Problem(
                .methodNotAllowed, detail: "\(request.method.rawValue) is not served at this path; it serves \(allowed.joined(separator: ", "))")
            problem.headers[.allow] = allowed.joined(separator: ", ")
            if let consolePages, request.uri.path.hasPrefix("/console/") {
                return ConsoleErrorPages.page(problem, context: context, pages: consolePages)
            }
            throw problem
        }
    }

    /// The methods of the most specific templates that match: as the router does, a
    /// literal component wins over a parameter at the first place they differ, so
    /// `approvals/bulk` (POST) is not also `approvals/{id}` (GET).
    func allowedMethods(path: String) -> [String] {
        let components = path.split(separator: "/")
        let matching = templates.filter { template in
            template.components.count == components.count
                && zip(template.components, components).allSatisfy { $0.0 == nil || $0.0 == $0.1 }
        }.map { (parameters: $0.components.map { $0 == nil }, methods: $0.methods) }
        let mostSpecific = matching.filter { candidate in
            !matching.contains { Self.moreSpecific($0.parameters, than: candidate.parameters) }
        }
        return Set(mostSpecific.flatMap(\.methods)).sorted()
    }

    /// Whether `a` has a literal where `b` has a parameter at the first place they differ.
    static func moreSpecific(_ a: [Bool], than b: [Bool]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return !x }
        return false
    }
}
