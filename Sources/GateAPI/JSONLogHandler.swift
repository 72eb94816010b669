import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One JSON object per line on stdout: what log collectors (Render, Loki, CloudWatch)
/// parse without configuration. Metadata values are rendered as strings.
struct JSONLogHandler: LogHandler {
    let label: String
    var output: FileHandle = .standardOutput
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, output: FileHandle = .standardOutput, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in metadataProvider?.get() ?? [:] { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["ts"] = LogTimestamp.now()
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["msg"] = "\(event.message)"
        Self.writeLine(Self.line(fields), to: output.fileDescriptor)
    }

    /// The line in one write(2) straight from its bytes (`FileHandle.write` copied
    /// them into `Data` first: a few % of a request), continued after a partial write
    /// or EINTR. An output that fails loses the line, never the request.
    static func writeLine(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// One JSON object, keys sorted, and a newline. Written by hand: the access log
    /// writes a line per request, and `JSONSerialization` (through `Any`/`NSString`)
    /// was a large share of the server's CPU in the benchmark's profiles
    /// (bench/HISTORY.md "Earlier round").
    static func line(_ fields: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(fields[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        out.append(0x0A)
        return out
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                // Other control characters as \u00XX: a log line stays one line.
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default: out.append(byte)  // UTF-8 passes through: JSON text is UTF-8
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// `2026-11-23T15:04:05.123Z`, from the C library: `Date.formatted(.iso8601…)`
/// builds a formatter per call.
enum LogTimestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(spec.tv_nsec) / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}

enum LoggingSetup {
    /// Installs the process-wide log handler once, before anything logs.
    /// The server logs to stdout; one-shot commands to stderr, so their stdout is
    /// only their result (a key, a token) and safe to capture in scripts.
    static func bootstrap(format: AppConfig.LogFormat, level: Logger.Level, toStandardError: Bool) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch (format, toStandardError) {
            case (.json, false): handler = JSONLogHandler(label: label)
            case (.json, true): handler = JSONLogHandler(label: label, output: .standardError)
            case (.text, false): handler = StreamLogHandler.standardOutput(label: label)
            case (.text, true): handler = StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
