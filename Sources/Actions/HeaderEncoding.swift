import Foundation

/// Builds one header field value with RFC 5322 folding and RFC 2047 encoded-words.
///
/// Rules kept here: a fold is a CRLF inserted before existing whitespace, so unfolding
/// (deleting CRLF) gives back the exact text; lines stay within 78 characters where
/// there is whitespace to fold at (998 is the hard limit, never reached with GateAPI's
/// field limits); a line holding an encoded-word stays within 76 characters (RFC 2047
/// §2); an encoded-word is at most 75 characters and never splits a UTF-8 sequence,
/// and keeps grapheme clusters (é, 🚀, flags) whole where they fit.
struct HeaderValueBuilder {
    private(set) var value = ""
    private var lineLength: Int
    private var lineHasEncodedWord = false
    /// Nothing on this line yet but the field name or the fold: folding here would make
    /// an empty line, which ends the header section.
    private var atLineStart = true

    static let encodedWordLineLimit = 76
    static let softLineLimit = 78
    static let maxEncodedWordLength = 75

    /// `name` is the field name; the line starts with `name: `.
    init(name: String) {
        lineLength = name.utf8.count + 2
    }

    /// Appends a token that must not be split. With `spaceBefore`, a space separates it
    /// from what precedes and the builder may fold there.
    mutating func append(_ token: String, spaceBefore: Bool) {
        let width = token.utf8.count
        let limit = lineHasEncodedWord ? Self.encodedWordLineLimit : Self.softLineLimit
        if spaceBefore, !atLineStart, !token.isEmpty, lineLength + 1 + width > limit {
            value += "\r\n " + token
            lineLength = 1 + width
            lineHasEncodedWord = false
        } else {
            value += (spaceBefore ? " " : "") + token
            lineLength += (spaceBefore ? 1 : 0) + width
        }
        atLineStart = false
    }

    /// Starts the next token on a new line (after a comma in an address list).
    mutating func foldBeforeNext() {
        value += "\r\n"
        lineLength = 0
        lineHasEncodedWord = false
        atLineStart = true
    }

    /// Appends `text` as B-encoded UTF-8 encoded-words, filling the current line and
    /// continuing on folded lines.
    mutating func appendEncodedWords(_ text: String, spaceBefore: Bool) {
        var pending = ArraySlice(Self.units(text))
        var separated = spaceBefore
        while let first = pending.first {
            let separator = separated ? 1 : 0
            var room = Self.payloadBytes(wordLength: Self.encodedWordLineLimit - lineLength - separator)
            var fold = false
            if room < first.count, separated, !atLineStart {
                fold = true
                room = Self.payloadBytes(wordLength: Self.encodedWordLineLimit - 1)
            }
            var bytes: [UInt8] = []
            // At least one unit per word, so the loop always advances (a unit is ≤ 45 bytes).
            while let unit = pending.first, bytes.isEmpty || bytes.count + unit.count <= room {
                bytes += unit
                pending = pending.dropFirst()
            }
            let word = "=?UTF-8?B?\(Data(bytes).base64EncodedString())?="
            if fold {
                value += "\r\n " + word
                lineLength = 1 + word.utf8.count
            } else {
                value += (separated ? " " : "") + word
                lineLength += separator + word.utf8.count
            }
            lineHasEncodedWord = true
            atLineStart = false
            separated = true
        }
    }

    /// UTF-8 bytes that fit in an encoded-word of `wordLength` characters:
    /// `=?UTF-8?B?` and `?=` take 12, and base64 writes 4 characters per 3 bytes.
    static func payloadBytes(wordLength: Int) -> Int {
        let length = min(wordLength, maxEncodedWordLength)
        return length <= 12 ? 0 : (length - 12) / 4 * 3
    }

    /// The indivisible pieces of `text`: grapheme clusters, or the Unicode scalars of a
    /// cluster longer than the room on the shortest first line (`Reply-To: ` leaves 66
    /// characters, 39 bytes), so that every unit fits wherever a word starts.
    static func units(_ text: String) -> [[UInt8]] {
        let max = payloadBytes(wordLength: encodedWordLineLimit - "Reply-To: ".utf8.count)
        var units: [[UInt8]] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= max {
                units.append(bytes)
            } else {
                units += character.unicodeScalars.map { Array(String($0).utf8) }
            }
        }
        return units
    }

    /// Text that may go into a header as it is: printable US-ASCII (spaces included)
    /// and nothing a reader would take for an encoded-word (`=?`), which would make the
    /// recipient see something other than what the reviewer saw.
    static func isPlainHeaderText(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) } && !text.contains("=?")
    }
}

/// Structured pieces of `To`/`Cc`/`Bcc`/`Reply-To` and `Subject`.
enum HeaderEncoding {
    /// Unstructured text (RFC 5322 §3.2.5): plain ASCII folded at its spaces, anything
    /// else as encoded-words.
    static func unstructured(_ text: String, name: String) -> String {
        var builder = HeaderValueBuilder(name: name)
        if HeaderValueBuilder.isPlainHeaderText(text) {
            for (index, word) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
                builder.append(String(word), spaceBefore: index > 0)
            }
        } else {
            builder.appendEncodedWords(text, spaceBefore: false)
        }
        return builder.value
    }

    /// A comma-separated address list, one mailbox per line.
    static func addressList(_ addresses: [EmailAddress], name: String) -> String {
        var builder = HeaderValueBuilder(name: name)
        for (index, address) in addresses.enumerated() {
            if index > 0 { builder.foldBeforeNext() }
            appendMailbox(address, comma: index < addresses.count - 1, to: &builder, spaceBefore: index > 0)
        }
        return builder.value
    }

    /// `name-addr` (RFC 5322 §3.4): the display name as atoms when it is only atext and
    /// spaces, as a quoted-string when it has specials (`,` `.` `"` `(`…), as encoded-words
    /// when it is not plain ASCII. Without a name, the bare address.
    static func appendMailbox(_ address: EmailAddress, comma: Bool, to builder: inout HeaderValueBuilder, spaceBefore: Bool) {
        let suffix = comma ? "," : ""
        guard let name = address.displayName else {
            builder.append(address.address + suffix, spaceBefore: spaceBefore)
            return
        }
        if HeaderValueBuilder.isPlainHeaderText(name) {
            let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
            let words = name.split(separator: " ")
            if !words.isEmpty, words.allSatisfy({ $0.allSatisfy(atext.contains) }) {
                for (index, word) in words.enumerated() {
                    builder.append(String(word), spaceBefore: spaceBefore || index > 0)
                }
            } else {
                builder.append(quoted(name), spaceBefore: spaceBefore)
            }
        } else {
            builder.appendEncodedWords(name, spaceBefore: spaceBefore)
        }
        builder.append("<\(address.address)>" + suffix, spaceBefore: true)
    }

    /// A quoted-string with `\` and `"` escaped.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
