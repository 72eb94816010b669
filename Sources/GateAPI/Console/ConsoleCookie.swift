import Hummingbird
import HTTPTypes

/// The console's session cookie: `HttpOnly; SameSite=Lax; Path=/console`, and `Secure`
/// unless the console is reached on a loopback address over plain HTTP (development),
/// where browsers would not send a Secure cookie back.
enum ConsoleCookie {
    static let name = "gateapi_console"

    static func sessionID(_ request: Request) -> String? { value(named: name, in: request) }

    static func value(named name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    static func isLoopback(_ request: Request) -> Bool {
        guard let authority = request.head.authority else { return false }
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.dropFirst().prefix { $0 != "]" }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        return host == "127.0.0.1" || host == "localhost" || host == "::1"
    }

    static func set(_ sessionID: String, maxAge: Duration, request: Request) -> String {
        "\(name)=\(sessionID); Path=/console; Max-Age=\(maxAge.components.seconds); HttpOnly; SameSite=Lax"
            + (isLoopback(request) ? "" : "; Secure")
    }

    static func clear(request: Request) -> String {
        "\(name)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Lax" + (isLoopback(request) ? "" : "; Secure")
    }
}
