import Crypto
import Foundation
import NIOCore

/// The OpenAPI 3.1 contract of every route `buildRouter` serves: what `GET /openapi.json`
/// returns and `GET /docs` renders. It is `Resources/openapi.json`, embedded into the
/// binary by SwiftPM (`.embedInCode` in Package.swift), so a deployed image (which
/// ships only the executable) serves it without resource files.
///
/// Edit that file when a route, parameter, body or answer changes; what several
/// operations share is a component used by `$ref` (a schema that extends another is an
/// `allOf` closed by `unevaluatedProperties`; a shared answer with an operation's own
/// wording is a `$ref` with a `description` beside it, as OpenAPI 3.1 allows).
/// `OpenAPITests` check that it parses, that every `$ref` resolves and every component
/// is used, that every operation has a unique `operationId` and a 4xx answer, and that
/// its paths and methods are exactly the router's; `scripts/contract-test` checks real
/// answers against it with schemathesis.
enum OpenAPIDocument {
    /// The document as served (UTF-8 JSON), built once: the route only hands it out.
    static let body = ByteBuffer(bytes: PackageResources.openapi_json)

    /// A strong validator: the SHA-256 of the document, so it changes with every edit.
    static let etag: String = {
        let digest = SHA256.hash(data: PackageResources.openapi_json)
        return "\"" + digest.prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }()
}
