import Auth
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GateAPI

/// The published contract (`Resources/openapi.json`, served by `OpenAPIDocument`)
/// against the router that serves the API,
/// and the `/openapi.json` and `/docs` routes themselves. `scripts/contract-test`
/// checks the answers of a running server against the same document.
@Suite struct OpenAPITests {
    static var document: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.body.readableBytesView)) as? [String: Any])
        }
    }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// `METHOD /path` for every operation of the document, path parameters as `{}`.
    static func documentedRoutes(_ document: [String: Any]) -> Set<String> {
        let paths = document["paths"] as? [String: Any] ?? [:]
        var routes = Set<String>()
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where methods.contains(method) {
                routes.insert("\(method.uppercased()) \(normalized(path))")
            }
        }
        return routes
    }

    /// `METHOD /path` for every route of a router, path parameters as `{}`; the
    /// reviewer console's pages (`/console`) and the decision links' pages (`/decide`)
    /// are HTML for people, and Slack's callback (`/slack/interactions`, docs/api.md)
    /// speaks Slack's protocol: none of them is part of the API.
    static func servedRoutes(_ router: Router<AppRequestContext>) -> Set<String> {
        Set(router.routes.map { "\($0.method.rawValue) \(normalized($0.path.description))" }.filter {
            !$0.contains(" /console") && !$0.contains(" /decide/") && !$0.hasSuffix(" /slack/interactions")
        })
    }

    /// `/v1/workspaces/{ws}/jobs/:id/` → `/v1/workspaces/{}/jobs/{}`: Hummingbird and
    /// OpenAPI spell parameters differently, and their names do not matter here.
    static func normalized(_ path: String) -> String {
        let components = path.split(separator: "/").map { component -> String in
            if component.hasPrefix(":") || (component.hasPrefix("{") && component.hasSuffix("}")) { return "{}" }
            return String(component)
        }
        return "/" + components.joined(separator: "/")
    }

    /// Routes served but not documented, and documented but not served.
    static func differences(router: Router<AppRequestContext>, document: [String: Any]) -> (undocumented: [String], unserved: [String]) {
        let served = servedRoutes(router)
        let documented = documentedRoutes(document)
        return (served.subtracting(documented).sorted(), documented.subtracting(served).sorted())
    }

    static func makeRouter() async throws -> Router<AppRequestContext> {
        let config = try AppConfig.load(from: TestEnvironment.appEnvironment(databaseURL: TestEnvironment.databaseURL))
        let services = try await AppServices(config: config, logger: TestEnvironment.logger)
        return buildRouter(config: config, services: services)
    }

    // MARK: - The document against the router

    @Test func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() async throws {
        let router = try await Self.makeRouter()
        let document = try Self.document
        // Guard against a vacuous pass: both sides really list the API.
        #expect(Self.servedRoutes(router).count >= 30)
        #expect(Self.servedRoutes(router).contains("POST /v1/workspaces/{}/jobs"))
        #expect(Self.servedRoutes(router).contains("GET /openapi.json"))
        let (undocumented, unserved) = Self.differences(router: router, document: document)
        #expect(undocumented.isEmpty, "served but missing from OpenAPIDocument: \(undocumented)")
        #expect(unserved.isEmpty, "in OpenAPIDocument but not served: \(unserved)")
    }

    @Test func theComparisonCatchesANewRouteAndAStaleOperation() async throws {
        let router = try await Self.makeRouter()
        router.group("v1/workspaces/{ws}").get("widgets/{id}") { _, _ in "" }
        router.patch("/v1/workspaces/{ws}/jobs/{id}") { _, _ in "" }
        var document = try Self.document
        var paths = try #require(document["paths"] as? [String: Any])
        paths["/v1/workspaces/{ws}/retired"] = ["get": ["operationId": "retired"]]
        document["paths"] = paths
        let (undocumented, unserved) = Self.differences(router: router, document: document)
        #expect(undocumented == ["GET /v1/workspaces/{}/widgets/{}", "PATCH /v1/workspaces/{}/jobs/{}"])
        #expect(unserved == ["GET /v1/workspaces/{}/retired"])
    }

    @Test func pathsAreNormalizedWhateverTheParameterSyntax() {
        #expect(Self.normalized("/v1/workspaces/{ws}/jobs/{id}") == "/v1/workspaces/{}/jobs/{}")
        #expect(Self.normalized("v1/workspaces/:ws/jobs/:id/") == "/v1/workspaces/{}/jobs/{}")
        #expect(Self.normalized("/openapi.json") == "/openapi.json")
    }

    // MARK: - The document on its own

    @Test func documentIsOpenAPI31WithRelativeServers() throws {
        let document = try Self.document
        let version = try #require(document["openapi"] as? String)
        #expect(version.hasPrefix("3.1."))
        let servers = try #require(document["servers"] as? [[String: Any]])
        #expect(servers.count == 1 && servers[0]["url"] as? String == "/")
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["title"] as? String == "GateAPI")
    }

    @Test func everyReferenceResolves() throws {
        let document = try Self.document
        var references: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let ref = object["$ref"] as? String { references.append(ref) }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        // Discriminator mappings are references too.
        #expect(references.count > 100)
        for ref in Set(references) {
            #expect(ref.hasPrefix("#/"), "only local references: \(ref)")
            #expect(Self.resolve(ref, in: document) != nil, "unresolved $ref \(ref)")
        }
        // And every component is used (a stale schema is a sign of a stale document).
        let components = try #require(document["components"] as? [String: Any])
        for (kind, entries) in components where kind != "securitySchemes" {
            for name in (entries as? [String: Any] ?? [:]).keys {
                let ref = "#/components/\(kind)/\(name)"
                #expect(references.contains(ref) || Self.mappingTargets(document).contains(ref), "unused component \(ref)")
            }
        }
    }

    static func resolve(_ ref: String, in document: [String: Any]) -> Any? {
        var current: Any? = document
        for raw in ref.dropFirst(2).split(separator: "/") {
            let key = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            current = (current as? [String: Any])?[key]
        }
        return current
    }

    // MARK: - Shared, not copied

    @Test func nothingIsWrittenOutTwice() throws {
        let document = try Self.document
        let copies = try Self.copies(in: document)
        #expect(copies.isEmpty, "written out more than once (share it by $ref): \(copies)")

        // The check finds a copy: the email address schema written out again in place.
        var changed = document
        var components = try #require(changed["components"] as? [String: Any])
        var schemas = try #require(components["schemas"] as? [String: Any])
        let address = try #require(schemas["EmailAddress"])
        var params = try #require(schemas["GmailSendParams"] as? [String: Any])
        var properties = try #require(params["properties"] as? [String: Any])
        properties["reply_to"] = address
        params["properties"] = properties
        schemas["GmailSendParams"] = params
        components["schemas"] = schemas
        changed["components"] = components
        #expect(try Self.copies(in: changed) == [["#/components/schemas/EmailAddress", "#/components/schemas/GmailSendParams/properties/reply_to"]])
    }

    /// Schemas, parameters and answers of at least `minimum` bytes of JSON that occur
    /// more than once, each as the sorted list of the places it is written. Smaller
    /// ones (a type with a format) say less than a `$ref` would.
    static func copies(in document: [String: Any], minimum: Int = 120) throws -> [[String]] {
        var places: [String: [String]] = [:]
        func note(_ value: Any, _ path: String) throws {
            guard let object = value as? [String: Any], object["$ref"] == nil else { return }
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            if json.count >= minimum { places[String(decoding: json, as: UTF8.self), default: []].append(path) }
        }
        func schema(_ value: Any, _ path: String) throws {
            guard let object = value as? [String: Any] else { return }
            try note(object, path)
            for key in ["items", "not", "additionalProperties", "unevaluatedProperties"] {
                if let child = object[key] { try schema(child, "\(path)/\(key)") }
            }
            for (name, child) in object["properties"] as? [String: Any] ?? [:] {
                try schema(child, "\(path)/properties/\(name)")
            }
            for key in ["allOf", "oneOf", "anyOf"] {
                for (index, child) in (object[key] as? [Any] ?? []).enumerated() { try schema(child, "\(path)/\(key)/\(index)") }
            }
        }
        // Every `schema` of a parameter, header or media type, wherever it is.
        func walk(_ value: Any, _ path: String) throws {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    if key == "schema" { try schema(child, "\(path)/schema") } else { try walk(child, "\(path)/\(key)") }
                }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { try walk(child, "\(path)/\(index)") }
            }
        }
        let components = document["components"] as? [String: Any] ?? [:]
        for (name, value) in components["schemas"] as? [String: Any] ?? [:] { try schema(value, "#/components/schemas/\(name)") }
        for kind in ["parameters", "responses", "headers", "requestBodies"] {
            try walk(components[kind] ?? [String: Any](), "#/components/\(kind)")
        }
        try walk(document["paths"] ?? [String: Any](), "#/paths")
        for (path, method, operation) in operations(document) {
            for (index, parameter) in (operation["parameters"] as? [Any] ?? []).enumerated() {
                try note(parameter, "\(method) \(path) parameters/\(index)")
            }
            for (status, answer) in operation["responses"] as? [String: Any] ?? [:] {
                try note(answer, "\(method) \(path) \(status)")
            }
        }
        return places.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// OpenAPI 3.1 lets a reference carry its own `description` or `summary` (a shared
    /// answer in an operation's words); anything else beside a `$ref` is read
    /// differently by different tools.
    @Test func besideAReferenceOnlyADescriptionOrSummary() throws {
        var overrides = 0
        func walk(_ value: Any, _ path: String) {
            if let object = value as? [String: Any] {
                if object["$ref"] is String {
                    let others = Set(object.keys).subtracting(["$ref"])
                    #expect(others.isSubset(of: ["description", "summary"]), "\(path): \(others.sorted()) beside $ref")
                    if !others.isEmpty { overrides += 1 }
                }
                for (key, child) in object { walk(child, "\(path)/\(key)") }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { walk(child, "\(path)/\(index)") }
            }
        }
        walk(try Self.document, "#")
        #expect(overrides > 0)
    }

    /// A schema that extends another is `allOf` the shared fields and its own, closed by
    /// `unevaluatedProperties: false`: `additionalProperties: false` in a part would
    /// refuse the other parts' fields, and without the close unknown fields would pass.
    @Test func schemasThatExtendAnotherAreClosedAsAWhole() throws {
        let document = try Self.document
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var extended = 0
        for (name, value) in schemas {
            let schema = try #require(value as? [String: Any])
            guard let parts = schema["allOf"] as? [Any] else { continue }
            extended += 1
            #expect(schema["unevaluatedProperties"] as? Bool == false, "\(name) is not closed")
            for part in parts {
                let object = try #require(part as? [String: Any])
                let resolved = (object["$ref"] as? String).flatMap { Self.resolve($0, in: document) } as? [String: Any] ?? object
                #expect(resolved["additionalProperties"] == nil && resolved["unevaluatedProperties"] == nil, "a part of \(name) is closed")
            }
        }
        #expect(extended >= 3)
    }

    static func mappingTargets(_ document: [String: Any]) -> Set<String> {
        var targets = Set<String>()
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let discriminator = object["discriminator"] as? [String: Any],
                    let mapping = discriminator["mapping"] as? [String: String]
                {
                    targets.formUnion(mapping.values)
                }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        return targets
    }

    /// Every operation: `[(path, method, operation)]`.
    static func operations(_ document: [String: Any]) -> [(String, String, [String: Any])] {
        let paths = document["paths"] as? [String: Any] ?? [:]
        return paths.keys.sorted().flatMap { path in
            let item = paths[path] as? [String: Any] ?? [:]
            return methods.compactMap { method in (item[method] as? [String: Any]).map { (path, method, $0) } }
        }
    }

    @Test func everyOperationHasAUniqueIdAClientErrorAndItsSecurity() throws {
        let document = try Self.document
        let operations = Self.operations(document)
        #expect(operations.count >= 30)
        var ids = Set<String>()
        let schemes = Set((((document["components"] as? [String: Any])?["securitySchemes"]) as? [String: Any] ?? [:]).keys)
        #expect(schemes == ["apiKey", "jwt", "apiKeyHeader"])
        for (path, method, operation) in operations {
            let name = "\(method.uppercased()) \(path)"
            let id = operation["operationId"] as? String ?? ""
            #expect(!id.isEmpty, "\(name) has no operationId")
            #expect(ids.insert(id).inserted, "operationId \(id) is used twice")
            let responses = operation["responses"] as? [String: Any] ?? [:]
            #expect(responses.keys.contains { $0.hasPrefix("4") }, "\(name) documents no 4xx answer")
            #expect(!responses.keys.contains { $0.hasPrefix("5") && $0 != "503" }, "\(name) documents a 5xx other than 503")
            let security = try #require(operation["security"] as? [[String: [String]]], "\(name) has no security")
            // Path parameters: each `{name}` of the path is declared, in the path.
            let declared = (operation["parameters"] as? [Any] ?? []).compactMap { parameter -> String? in
                let resolved = (parameter as? [String: Any]).flatMap { object in
                    (object["$ref"] as? String).flatMap { Self.resolve($0, in: document) } ?? object
                } as? [String: Any]
                return resolved?["in"] as? String == "path" ? resolved?["name"] as? String : nil
            }
            let placeholders = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            #expect(Set(declared) == Set(placeholders), "\(name) declares path parameters \(declared)")
            if path.hasPrefix("/v1/workspaces/{ws}") {
                let scopes = try #require(operation["x-required-scopes"] as? [String], "\(name) has no x-required-scopes")
                #expect(!scopes.isEmpty && scopes.allSatisfy { Scope(rawValue: $0) != nil }, "\(name): \(scopes)")
                #expect(Set(security.flatMap(\.keys)) == schemes, "\(name) must accept every credential")
                #expect(Set(security.flatMap { $0.values.flatMap { $0 } }) == Set(scopes))
                for status in ["401", "403", "404", "429", "503"] {
                    #expect(responses[status] != nil, "\(name) does not document \(status)")
                }
            } else {
                #expect(security.isEmpty, "\(name) is public")
            }
        }
    }

    @Test func linksLeadToOperationsThatExistWithTheParametersTheyTake() throws {
        let document = try Self.document
        let operations = Self.operations(document)
        let byID = Dictionary(uniqueKeysWithValues: operations.map { ($0.2["operationId"] as? String ?? "", $0) })
        var count = 0
        for (path, method, operation) in operations {
            for (status, response) in operation["responses"] as? [String: Any] ?? [:] {
                for (name, value) in (response as? [String: Any])?["links"] as? [String: Any] ?? [:] {
                    count += 1
                    let link = try #require(value as? [String: Any])
                    let target = try #require(byID[link["operationId"] as? String ?? ""], "\(method) \(path) \(status) \(name)")
                    let placeholders = Set(target.0.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                    let given = Set((link["parameters"] as? [String: String] ?? [:]).keys)
                    #expect(given == placeholders, "\(name) fills \(given), \(target.0) takes \(placeholders)")
                }
            }
        }
        #expect(count >= 10)
    }

    // MARK: - Served

    @Test func openAPIJSONIsServedWithAValidator() async throws {
        try await withTestApp { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl] == "no-cache")
            #expect(response.headers[.requestID] != nil)
            let etag = try #require(response.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 34)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect((body["openapi"] as? String)?.hasPrefix("3.1.") == true)
            #expect(response.body == OpenAPIDocument.body)
            #expect(Array(response.body.readableBytesView) == PackageResources.openapi_json)

            let unchanged = try await client.execute(uri: "/openapi.json", method: .get, headers: [.ifNoneMatch: "W/\"x\", \(etag)"])
            #expect(unchanged.status == .notModified)
            #expect(unchanged.headers[.eTag] == etag)
            #expect(unchanged.body.readableBytes == 0)
            let changed = try await client.execute(uri: "/openapi.json", method: .get, headers: [.ifNoneMatch: "\"stale\""])
            #expect(changed.status == .ok)
        }
    }

    @Test func docsPageIsSelfContainedAndItsPolicyAllowsExactlyItsOwnScriptAndStyle() async throws {
        try await withTestApp { client in
            let response = try await client.execute(uri: "/docs", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            let html = String(buffer: response.body)
            let policy = try #require(response.headers[.contentSecurityPolicy])
            let directives = Dictionary(
                policy.split(separator: ";").map { directive -> (String, [String]) in
                    let parts = directive.split(separator: " ").map(String.init)
                    return (parts[0], Array(parts.dropFirst()))
                }, uniquingKeysWith: { $1 })
            #expect(directives["default-src"] == ["'none'"])
            #expect(directives["connect-src"] == ["'self'"])

            // The hashes in the policy are those of the inline elements served.
            let scripts = Self.elements("script", in: html)
            let styles = Self.elements("style", in: html)
            #expect(scripts.count == 1 && styles.count == 1)
            #expect(directives["script-src"] == scripts.map { "'sha256-\(Self.sha256Base64($0))'" })
            #expect(directives["style-src"] == styles.map { "'sha256-\(Self.sha256Base64($0))'" })
            #expect(scripts.first?.contains("fetch(\"openapi.json\"") == true)
            #expect(scripts.first?.contains("innerHTML") == false)

            // Nothing from another host: no absolute URLs in src/href, no external
            // scripts, stylesheets, imports or fonts.
            let lowered = html.lowercased()
            for pattern in [#"(src|href)\s*=\s*["']?\s*(https?:)?//"#, #"<script[^>]*\bsrc\s*="#, #"<link\b"#, #"@import"#, #"url\("#] {
                #expect(lowered.range(of: pattern, options: .regularExpression) == nil, "the page matches \(pattern)")
            }
        }
    }

    @Test func entityTagsMatchAsRFC9110Says() {
        let tag = "\"abc\""
        #expect(APIDocsController.matches("\"abc\"", etag: tag))
        #expect(APIDocsController.matches("W/\"abc\"", etag: tag))
        #expect(APIDocsController.matches("\"x\", \"abc\"", etag: tag))
        #expect(APIDocsController.matches("*", etag: tag))
        #expect(!APIDocsController.matches("\"abcd\"", etag: tag))
        #expect(!APIDocsController.matches("abc", etag: tag))
    }

    /// The text inside each `<tag>…</tag>` (no attributes on these elements).
    static func elements(_ tag: String, in html: String) -> [String] {
        var found: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<\(tag)>"), let close = rest.range(of: "</\(tag)>", range: open.upperBound..<rest.endIndex) {
            found.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func sha256Base64(_ text: String) -> String {
        Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }
}
