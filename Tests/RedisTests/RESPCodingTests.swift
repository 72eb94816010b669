import NIOCore
import Testing

@testable import Redis

@Suite struct RESPCodingTests {
    @Test func encodesBinarySafeArguments() throws {
        var buffer = ByteBuffer()
        try RESPEncoder.encode([Array("SET".utf8), Array("k".utf8), [0x00, 0x0D, 0x0A, 0xFF]], into: &buffer)
        #expect(Array(buffer.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF] + Array("\r\n".utf8))
    }

    @Test func encodesEmptyArgument() throws {
        var buffer = ByteBuffer()
        try RESPEncoder.encode([Array("GET".utf8), []], into: &buffer)
        #expect(String(buffer: buffer) == "*2\r\n$3\r\nGET\r\n$0\r\n\r\n")
    }

    @Test func decodesEveryReplyType() throws {
        let decoder = RESPDecoder()
        try decoder.feed(ByteBuffer(string: "+OK\r\n-ERR bad\r\n:42\r\n$-1\r\n$3\r\nabc\r\n*3\r\n:1\r\n*1\r\n+x\r\n$-1\r\n"))
        #expect(try decoder.next() == .simpleString("OK"))
        #expect(try decoder.next() == .error("ERR bad"))
        #expect(try decoder.next() == .integer(42))
        #expect(try decoder.next() == .null)
        #expect(try decoder.next() == .bulkString(Array("abc".utf8)))
        #expect(try decoder.next() == .array([.integer(1), .array([.simpleString("x")]), .null]))
        #expect(try decoder.next() == nil)
    }

    @Test func waitsForRepliesSplitAcrossReads() throws {
        let decoder = RESPDecoder()
        let wire = Array("$11\r\nhello world\r\n:7\r\n".utf8)
        var replies: [RESPValue] = []
        for byte in wire {
            try decoder.feed(ByteBuffer(bytes: [byte]))
            while let reply = try decoder.next() { replies.append(reply) }
        }
        #expect(replies == [.bulkString(Array("hello world".utf8)), .integer(7)])
    }

    @Test func rejectsGarbage() throws {
        let decoder = RESPDecoder()
        try decoder.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { try decoder.next() }
    }
}

@Suite struct RedisConfigurationTests {
    @Test func parsesFullURL() throws {
        let config = try RedisConfiguration(url: "redis://alice:p%40ss@cache.internal:6380/3")
        #expect(config.host == "cache.internal")
        #expect(config.port == 6380)
        #expect(config.username == "alice")
        #expect(config.password == "p@ss")
        #expect(config.database == 3)
        #expect(!config.useTLS)
    }

    @Test func parsesPasswordOnlyAndTLS() throws {
        let config = try RedisConfiguration(url: "rediss://:secret@redis.example.com")
        #expect(config.username == nil)
        #expect(config.password == "secret")
        #expect(config.port == 6379)
        #expect(config.database == 0)
        #expect(config.useTLS)
    }

    @Test(arguments: ["http://x", "redis://", "redis://h/abc", "redis://h:0", "not a url"])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let config = try RedisConfiguration(url: "redis://u:hunter2@h:1")
        #expect(!config.endpointDescription.contains("hunter2"))
    }
}
