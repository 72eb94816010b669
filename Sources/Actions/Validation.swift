import GateCore

/// One bad field, named by its JSON path (`params.to[2]`), for 422 problem details.
public struct FieldError: Sendable, Equatable, Codable {
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

public struct ValidationFailure: Error, Sendable, Equatable {
    public let errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }
}

/// Reads a params object field by field, collecting every error instead of stopping
/// at the first, and refusing fields it was not asked about.
struct ParamReader {
    private let object: [String: JSONValue]
    private let path: String
    private var read: Set<String> = []
    private(set) var errors: [FieldError] = []

    private init(object: [String: JSONValue], path: String) {
        self.object = object
        self.path = path
    }

    /// A reader over `value`, which must be a JSON object (one error otherwise).
    static func object(_ value: JSONValue, path: String) -> Result<ParamReader, ValidationFailure> {
        guard case .object(let object) = value else {
            return .failure(ValidationFailure([FieldError(field: path, message: "must be a JSON object")]))
        }
        return .success(ParamReader(object: object, path: path))
    }

    mutating func fail(_ key: String, _ message: String) {
        errors.append(FieldError(field: "\(path).\(key)", message: message))
    }

    mutating func fail(_ key: String, index: Int, _ message: String) {
        errors.append(FieldError(field: "\(path).\(key)[\(index)]", message: message))
    }

    /// A string of 1…`maxLength` characters; `singleLine` refuses CR and LF (header injection).
    mutating func string(_ key: String, required: Bool, maxLength: Int, singleLine: Bool = true) -> String? {
        read.insert(key)
        switch object[key] {
        case nil, .null?:
            if required { fail(key, "is required") }
            return nil
        case .string(let value)?:
            return check(value, key: key, index: nil, maxLength: maxLength, singleLine: singleLine)
        default:
            fail(key, "must be a string")
            return nil
        }
    }

    /// An array of strings; each element is checked like `string`.
    mutating func strings(_ key: String, required: Bool, count: ClosedRange<Int>, maxLength: Int) -> [String]? {
        read.insert(key)
        switch object[key] {
        case nil, .null?:
            if required { fail(key, "is required") }
            return nil
        case .array(let items)?:
            guard count.contains(items.count) else {
                fail(key, count.lowerBound == count.upperBound
                    ? "must have \(count.lowerBound) items"
                    : "must have \(count.lowerBound) to \(count.upperBound) items, got \(items.count)")
                return nil
            }
            var values: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let value) = item else {
                    fail(key, index: index, "must be a string")
                    continue
                }
                if let value = check(value, key: key, index: index, maxLength: maxLength, singleLine: true) {
                    values.append(value)
                }
            }
            return values.count == items.count ? values : nil
        default:
            fail(key, "must be an array of strings")
            return nil
        }
    }

    /// The raw value of `key` (marked as read), for fields a caller checks itself.
    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        if case .null? = object[key] { return nil }
        return object[key]
    }

    /// An array of objects, each read by a reader of its own whose errors name
    /// `path.key[index]`; hand each back with `absorb`.
    mutating func objects(_ key: String, count: ClosedRange<Int>) -> [ParamReader]? {
        read.insert(key)
        switch object[key] {
        case nil, .null?:
            return nil
        case .array(let items)?:
            guard items.count <= count.upperBound else {
                fail(key, "must have at most \(count.upperBound) items, got \(items.count)")
                return nil
            }
            var readers: [ParamReader] = []
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else {
                    fail(key, index: index, "must be a JSON object")
                    continue
                }
                readers.append(ParamReader(object: members, path: "\(path).\(key)[\(index)]"))
            }
            return readers.count == items.count ? readers : nil
        default:
            fail(key, "must be an array of objects")
            return nil
        }
    }

    /// Takes over a nested reader's errors (unknown fields included).
    mutating func absorb(_ nested: inout ParamReader) {
        nested.rejectUnknownFields()
        errors += nested.errors
    }

    /// The reader's own path (`params.attachments[2]`), for messages about the whole item.
    var itemPath: String { path }

    /// Errors for every field nobody read: a typo must not be ignored silently.
    mutating func rejectUnknownFields() {
        for key in object.keys.sorted() where !read.contains(key) {
            fail(key, "is not a known field")
        }
    }

    private mutating func check(_ value: String, key: String, index: Int?, maxLength: Int, singleLine: Bool) -> String? {
        func report(_ message: String) {
            if let index { fail(key, index: index, message) } else { fail(key, message) }
        }
        if value.isEmpty { report("must not be empty"); return nil }
        if value.count > maxLength { report("must be at most \(maxLength) characters"); return nil }
        if singleLine, value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            report("must not contain line breaks (CR or LF)")
            return nil
        }
        if value.unicodeScalars.contains(where: { $0.value == 0 }) { report("must not contain NUL"); return nil }
        return value
    }
}
