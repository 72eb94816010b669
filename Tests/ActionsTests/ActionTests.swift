import Foundation
import Testing

@testable import Actions
@testable import GateCore

@Suite struct CanonicalJSONTests {
    @Test func keyOrderAndWhitespaceDoNotChangeTheHash() throws {
        let a = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"b": [1, true, null], "a": {"y": "é\n", "x": 2}}"#.utf8))
        let b = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"a":{"x":2,"y":"é\n"},"b":[1,true,null]}"#.utf8))
        #expect(CanonicalJSON.encode(a) == #"{"a":{"x":2,"y":"é\n"},"b":[1,true,null]}"#)
        #expect(CanonicalJSON.sha256(a) == CanonicalJSON.sha256(b))
        #expect(CanonicalJSON.encode(.string("\u{1}\"\\")) == #""\u0001\"\\""#)
    }

    /// Stored payload hashes are compared with recomputed ones before anything runs:
    /// the canonical bytes of awkward values are pinned, so no refactoring moves them.
    @Test func canonicalBytesArePinned() {
        let awkward: JSONValue = [
            "text": "q\"\\/\u{01}\u{1f}\u{08}\u{0c}\n\r\t\u{7f}é\u{2028}😀 \u{0}",
            "numbers": [0, -1, .integer(.max), .number(0.1), .number(1e-7), .number(1_234_567_890_123_456), .number(1e21), .number(-0.5), .number(100)],
            "keys": ["b": 1, "a10": 2, "a9": 3, "B": 4, "é": 5, "\u{E000}": 6, "😀": 7],
        ]
        // Keys in UTF-16 order (😀, a surrogate pair, before U+E000); integral doubles from
        // 1e15 keep Swift's spelling.
        #expect(CanonicalJSON.encode(awkward) == #"{"keys":{"B":4,"a10":2,"a9":3,"b":1,"é":5,"😀":7,"\#u{E000}":6},"numbers":[0,-1,9223372036854775807,0.1,1e-07,1234567890123456.0,1e+21,-0.5,100],"text":"q\"\\/\u0001\u001f\b\f\n\r\t\#u{7F}é\#u{2028}😀 \u0000"}"#)
        #expect(CanonicalJSON.sha256(awkward) == "ce98973e4843d9abac1bac250a72b06a9615d8a5cbddbde430e2686ec0be1edc")
    }

    @Test func payloadHashIsSHA256OfCanonicalActionAndParams() {
        let params: JSONValue = ["title": "x"]
        let expected = CanonicalJSON.sha256(["action": "task.create", "params": params])
        #expect(ActionRegistry.payloadHash(action: .taskCreate, params: params) == expected)
        #expect(expected.count == 64)
    }
}

@Suite struct ActionValidationTests {
    func errors(_ action: String, _ json: String) throws -> [String] {
        let params = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        switch ActionRegistry.validate(action: action, params: params, form: .submitted) {
        case .success: return []
        case .failure(let failure): return failure.errors.map(\.field)
        }
    }

    @Test func gmailSendNamesEveryBadField() throws {
        #expect(try errors("gmail.send", #"{"to":["a@example.com"],"subject":"s","text":"t"}"#).isEmpty)
        #expect(try errors("gmail.send", #"{"to":["nope","b@example.com","c@-bad.com"],"subject":"s","text":"t"}"#) == ["params.to[0]", "params.to[2]"])
        #expect(try errors("gmail.send", #"{"to":[],"subject":"s","text":"t"}"#) == ["params.to"])
        #expect(try errors("gmail.send", #"{"to":["a@example.com"],"subject":"Hi\r\nBcc: evil@x.com","text":"t"}"#) == ["params.subject"])
        #expect(try errors("gmail.send", #"{"to":["a@example.com"],"subject":"s","text":"t","from":"me@x.com"}"#) == ["params.from"])
        #expect(try errors("gmail.send", #"{"to":["a@example.com"],"text":"t"}"#) == ["params.subject"])
        #expect(try errors("gmail.send", #"{"to":["Eve\r\n <a@example.com>"],"subject":"s","text":"t"}"#) == ["params.to[0]"])
        let long = String(repeating: "x", count: 501)
        #expect(try errors("gmail.send", #"{"to":["a@example.com"],"subject":"\#(long)","text":"t"}"#) == ["params.subject"])
        let many = (0..<101).map { "\"u\($0)@example.com\"" }.joined(separator: ",")
        #expect(try errors("gmail.send", #"{"to":[\#(many)],"subject":"s","text":"t"}"#) == ["params.to"])
        let sixty = (0..<60).map { "\"u\($0)@example.com\"" }.joined(separator: ",")
        #expect(try errors("gmail.send", #"{"to":[\#(sixty)],"cc":[\#(sixty)],"subject":"s","text":"t"}"#) == ["params.to"])
        #expect(try errors("gmail.send", #"["not an object"]"#) == ["params"])
        #expect(try errors("fax.send", "{}") == ["action"])
    }

    @Test func taskCreateValidatesAndNormalizes() throws {
        let params = try JSONDecoder().decode(
            JSONValue.self, from: Data(#"{"title":"Ship","due_at":"2026-12-01T10:00:00.5+01:00","labels":["a","b"]}"#.utf8))
        guard case .success(let validated) = ActionRegistry.validate(action: "task.create", params: params, form: .submitted) else {
            Issue.record("valid task refused")
            return
        }
        #expect(validated.params == ["title": "Ship", "due_at": "2026-12-01T09:00:00Z", "labels": ["a", "b"]])
        #expect(try errors("task.create", #"{"title":"x","due_at":"tomorrow"}"#) == ["params.due_at"])
        // Strict RFC 3339: Foundation's parser turned February 30 into March 2 and refused offsets past ±18:00.
        #expect(try errors("task.create", #"{"title":"x","due_at":"2026-02-30T09:00:00Z"}"#) == ["params.due_at"])
        #expect(try errors("task.create", #"{"title":"x","due_at":"2026-11-23T15:27:05+0100"}"#) == ["params.due_at"])
        #expect(try errors("task.create", #"{"title":"x","due_at":"2026-12-01t09:00:00-20:30"}"#).isEmpty)
        #expect(try errors("task.create", #"{"title":"x","labels":["a","a"]}"#) == ["params.labels"])
        #expect(try errors("task.create", #"{"description":"no title"}"#) == ["params.title"])
    }

    @Test func previewShowsTheExactHeadersWithEncodedWords() throws {
        let params = try JSONDecoder().decode(
            JSONValue.self,
            from: Data(#"{"to":["Zoë <zoe@example.com>","b@example.com"],"bcc":["c@example.com"],"subject":"Grüße","text":"Hallo","html":"<p>Hallo</p>"}"#.utf8))
        guard case .success(let validated) = ActionRegistry.validate(action: "gmail.send", params: params, form: .submitted),
            case .object(let preview) = validated.preview, case .array(let headers)? = preview["headers"]
        else {
            Issue.record("no preview")
            return
        }
        #expect(headers == [
            "To: =?UTF-8?B?Wm/Dqw==?= <zoe@example.com>,\r\n b@example.com", "Bcc: c@example.com",
            "Subject: =?UTF-8?B?R3LDvMOfZQ==?=", "MIME-Version: 1.0",
        ].map { .string($0) })
        #expect(preview["html"] == .string("<p>Hallo</p>"))
        #expect(preview["recipient_count"] == .integer(3))
    }

    @Test func constraintsLimitDomainsAndRecipients() throws {
        let params = try JSONDecoder().decode(
            JSONValue.self, from: Data(#"{"to":["a@acme.com","b@mail.acme.com"],"cc":["c@gmail.com"],"subject":"s","text":"t"}"#.utf8))
        guard case .success(let action) = ActionRegistry.validate(action: "gmail.send", params: params, form: .submitted) else { return }
        let domains = try PolicyConstraints.parse(["allowed_recipient_domains": ["acme.com"]], for: .gmailSend).get()
        #expect(domains.violation(of: action) == "recipient domain gmail.com is not allowed by the policy")
        let wider = try PolicyConstraints.parse(["allowed_recipient_domains": ["acme.com", "gmail.com"]], for: .gmailSend).get()
        #expect(wider.violation(of: action) == nil)
        let few = try PolicyConstraints.parse(["max_recipients": 2], for: .gmailSend).get()
        #expect(few.violation(of: action) != nil)
        #expect(throws: ValidationFailure.self) { try PolicyConstraints.parse(["max_recipients": 2], for: .taskCreate).get() }
        #expect(throws: ValidationFailure.self) { try PolicyConstraints.parse(["colour": "red"], for: .gmailSend).get() }
    }
}

/// The mailbox rule (docs/api.md, "Actions and their params"), pinned case by case: the validator works
/// on bytes, and these are the edges where bytes and characters could disagree.
@Suite struct EmailAddressTests {
    @Test func acceptsPlainAndNamedMailboxes() throws {
        for (text, address, name) in [
            ("a@example.com", "a@example.com", nil), ("  Ann.Lee+tag@mail.example.co  ", "Ann.Lee+tag@mail.example.co", nil),
            ("Ann Lee <ann@example.com>", "ann@example.com", "Ann Lee"), ("<ann@example.com>", "ann@example.com", nil),
            ("o'neil!#$%&*/=?^_`{|}~-@x-y.example.org", "o'neil!#$%&*/=?^_`{|}~-@x-y.example.org", nil),
            ("Zoë <z@example.com>", "z@example.com", "Zoë"),
            ("\(String(repeating: "l", count: 64))@example.com", "\(String(repeating: "l", count: 64))@example.com", nil),
        ] as [(String, String, String?)] {
            let parsed = try #require(EmailAddress(text), "\(text)")
            #expect(parsed.address == address)
            #expect(parsed.displayName == name)
        }
    }

    @Test func refusesWhatIsNotAnUnambiguousMailbox() {
        for text in [
            "", "@", "a@", "@example.com", "a@example", "a@example.c", "a@example.c0m", "a@.example.com", "a@example..com",
            "a@-example.com", "a@example-.com", ".a@example.com", "a.@example.com", "a..b@example.com", "a b@example.com",
            "a\"b@example.com", "a@b@example.com", "zoë@example.com", "a@exämple.com", "a@example.com\u{301}", "a\u{301}@example.com",
            "a@\u{301}example.com", "a@example.com\r\n", "Eve\" <a@example.com>", "Eve\r\n <a@example.com>", "Ann <a@example>",
            "\(String(repeating: "l", count: 65))@example.com", "a@\(String(repeating: "d", count: 64)).com",
            "a@" + Array(repeating: String(repeating: "d", count: 60), count: 5).joined(separator: ".") + ".com",
            "a@example.com.", "a@example_x.com", "a@exa mple.com",
        ] {
            #expect(EmailAddress(text) == nil, "\(text)")
        }
    }
}

@Suite struct SortableIDTests {
    /// Well-formed, ordered by time, and every random position takes every character
    /// (a wrong shift would pin some positions to a few values).
    @Test func idsAreWellFormedOrderedAndRandomInEveryPosition() {
        let start = Date()
        let ids = (0..<4000).map { i in SortableID.make(prefix: "job", now: start.addingTimeInterval(Double(i) / 1000)) }
        #expect(ids.allSatisfy { SortableID.isWellFormed($0, prefix: "job") })
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        for position in 14..<30 {
            let seen = Set(ids.map { Array($0.utf8)[position] })
            #expect(seen.count == 32, "position \(position): \(seen.count) characters")
        }
    }

    /// The same for the secrets of API keys (several 64-bit draws per string).
    @Test func base32RandomIsValidAndRandomInEveryPosition() {
        let secrets = (0..<4000).map { _ in Base32.random(count: 40) }
        #expect(secrets.allSatisfy { $0.utf8.count == 40 && Base32.isValid($0) })
        #expect(Set(secrets).count == secrets.count)
        for position in 0..<40 {
            let seen = Set(secrets.map { Array($0.utf8)[position] })
            #expect(seen.count == 32, "position \(position): \(seen.count) characters")
        }
    }
}
