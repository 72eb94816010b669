import Gate
/// Splits a SQL file into single statements. PostgresNIO speaks only the extended
/// query protocol, which takes one statement at a time, so a migration file with
/// many statements is cut at each `;` that is outside quotes, dollar-quoted bodies
/// and comments.
public enum SQLScript {
    public static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let chars = Array(sql.unicodeScalars)
        var i = 0

        func flush() {
            let trimmed = current.trimmingWhitespace()
            if !trimmed.isEmpty { statements.append(trimmed) }
            current = ""
        }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            switch c {
            case "-" where next == "-":
                // Line comment: dropped, so a commented-out `;` splits nothing.
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            case "/" where next == "*":
                var depth = 0
                repeat {
                    if chars[i] == "/", i + 1 < chars.count, chars[i + 1] == "*" { depth += 1; i += 2; continue }
                    if chars[i] == "*", i + 1 < chars.count, chars[i + 1] == "/" { depth -= 1; i += 2; continue }
                    i += 1
                } while i < chars.count && depth > 0
                current.append(" ")
                continue
            case "'", "\"":
                // Quoted literal or identifier; a doubled quote is an escaped quote.
                current.unicodeScalars.append(c)
                i += 1
                while i < chars.count {
                    current.unicodeScalars.append(chars[i])
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c {
                            current.unicodeScalars.append(chars[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            case "$":
                if let tag = dollarTag(chars, at: i) {
                    // Dollar-quoted body (function bodies): copy through the closing tag.
                    current += tag
                    i += tag.unicodeScalars.count
                    while i < chars.count {
                        if chars[i] == "$", let closing = dollarTag(chars, at: i), closing == tag {
                            current += tag
                            i += tag.unicodeScalars.count
                            break
                        }
                        current.unicodeScalars.append(chars[i])
                        i += 1
                    }
                    continue
                }
            case ";":
                flush()
                i += 1
                continue
            default:
                break
            }
            current.unicodeScalars.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$tag$` starting at `index`, if one does.
    private static func dollarTag(_ chars: [Unicode.Scalar], at index: Int) -> String? {
        var j = index + 1
        while j < chars.count, chars[j] == "_" || chars[j].properties.isAlphabetic || (j > index + 1 && ("0"..."9").contains(chars[j])) {
            j += 1
        }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return String(String.UnicodeScalarView(chars[index...j]))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
