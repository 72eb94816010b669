/// A workspace id: `^[a-z0-9][a-z0-9-]{1,62}$` (SPEC §2). Parsed once per request from
/// the path's `{ws}` (`WorkspacePathMiddleware`); a value of this type is well-formed.
public struct WorkspaceID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// nil unless `text` is a well-formed workspace id.
    public init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public static func isValid(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (2...63).contains(bytes.count) else { return false }
        func allowed(_ b: UInt8, hyphen: Bool) -> Bool {
            (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || (hyphen && b == 0x2D)
        }
        return allowed(bytes[0], hyphen: false) && bytes.dropFirst().allSatisfy { allowed($0, hyphen: true) }
    }
}
