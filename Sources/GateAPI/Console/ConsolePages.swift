import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's templates (compiled into the binary, parsed once at start-up) and
/// the headers every console answer carries.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("console-head", PackageResources.console_head_mustache), ("console-foot", PackageResources.console_foot_mustache),
            ("console-error", PackageResources.console_error_mustache), ("console-signin", PackageResources.console_signin_mustache),
            ("console-workspaces", PackageResources.console_workspaces_mustache),
            ("console-queue", PackageResources.console_queue_mustache),
            ("console-queue-rows", PackageResources.console_queue_rows_mustache),
            ("console-approval", PackageResources.console_approval_mustache),
            ("console-outbox", PackageResources.console_outbox_mustache),
            ("console-bulk-confirm", PackageResources.console_bulk_confirm_mustache),
            ("console-bulk-result", PackageResources.console_bulk_result_mustache),
            ("console-audit", PackageResources.console_audit_mustache),
            ("console-audit-verify", PackageResources.console_audit_verify_mustache),
            ("console-job", PackageResources.console_job_mustache),
            ("console-policies", PackageResources.console_policies_mustache),
            ("console-keys", PackageResources.console_keys_mustache),
            ("console-dead-letters", PackageResources.console_dead_letters_mustache),
            ("console-outbox-message", PackageResources.console_outbox_message_mustache),
            ("decide-confirm", PackageResources.decide_confirm_mustache),
            ("decide-result", PackageResources.decide_result_mustache),
            ("console-reviewers", PackageResources.console_reviewers_mustache),
            ("console-delegation", PackageResources.console_delegation_mustache),
        ]
        for (name, bytes) in templates {
            // The templates are part of the binary: one that does not parse is a build defect.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// No inline script or style, nothing from elsewhere; the HTML body of an email is
    /// framed only from the console's own, sandboxed route.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func securityHeaders(_ fields: inout HTTPFields, csp: String = contentSecurityPolicy) {
        fields[.contentSecurityPolicy] = csp
        fields[.xContentTypeOptions] = "nosniff"
        // Not no-referrer: with it, Chromium sends `Origin: null` on the console's own form
        // posts, and the sign-in's origin check would refuse them. Other sites get nothing.
        fields[.referrerPolicy] = "same-origin"
        // Pages are per person and change with every decision; the style sheet and script
        // say their own (a few minutes), which this must not override.
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        if fields[.xFrameOptions] == nil { fields[.xFrameOptions] = "DENY" }
    }

    func html(_ template: String, _ view: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let body = library.render(view, withTemplate: template) ?? ""
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        Self.securityHeaders(&fields)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(to location: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.location] = location
        securityHeaders(&fields)
        return Response(status: .seeOther, headers: fields)
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
}

/// A view's values without the absent ones: a missing key is an empty section in
/// Mustache, while a stored nil would render as "nil".
func consoleView(_ values: [String: Any?]) -> [String: Any] { values.compactMapValues { $0 } }
