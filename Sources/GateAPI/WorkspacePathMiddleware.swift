import Auth
import Hummingbird

/// Parses the path's `{ws}` once, into `context.workspace` (nil if it is not a
/// well-formed id), for every middleware and handler after it. It refuses nothing
/// itself: authentication still comes first (401 before 404), and
/// `WorkspaceAccessMiddleware` answers 404 for a workspace the principal is not in.
struct WorkspacePathMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.workspace = context.parameters.get("ws").flatMap(WorkspaceID.init)
        return try await next(request, context)
    }
}
