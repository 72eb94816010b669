import Crypto
import Foundation
import NIOCore

/// `GET /docs`: one self-contained HTML page that fetches `openapi.json` and renders
/// every operation, grouped by tag, with its parameters, bodies, answers, `$ref`s
/// resolved, and security. No CDN and nothing from another host: the style and the
/// script are inline, allowed by their SHA-256 in a strict Content-Security-Policy
/// that is computed from the very text served, so the two cannot drift apart.
///
/// The shell, style and script are `Resources/docs.html`, `docs.css` and `docs.js`,
/// embedded into the binary by SwiftPM (`.embedInCode` in Package.swift), so they are
/// edited as what they are and the image still ships only the executable.
enum APIDocsPage {
    static let style = String(decoding: PackageResources.docs_css, as: UTF8.self)
    static let script = String(decoding: PackageResources.docs_js, as: UTF8.self)

    /// The shell with its empty `<style>` and `<script>` filled in.
    static let html: String = {
        let shell = String(decoding: PackageResources.docs_html, as: UTF8.self)
        return shell.filling("<style>", "</style>", with: style).filling("<script>", "</script>", with: script)
    }()

    /// The page as served, built once.
    static let body = ByteBuffer(string: html)

    /// Nothing may load but this page's own style and script, and `fetch` of the
    /// document from the same origin.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src '\(hash(script))'", "style-src '\(hash(style))'", "connect-src 'self'",
        "img-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// A CSP source expression for an inline element: `sha256-<base64 of SHA-256 of its text>`.
    static func hash(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }
}

extension String {
    /// The text with the one empty `open` + `close` element holding `content` instead.
    /// The shell is part of the binary, so a shell without exactly one is a build defect.
    fileprivate func filling(_ open: String, _ close: String, with content: String) -> String {
        let empty = open + close
        precondition(components(separatedBy: empty).count == 2, "docs.html must hold exactly one empty \(empty)")
        return replacingOccurrences(of: empty, with: open + content + close)
    }
}
