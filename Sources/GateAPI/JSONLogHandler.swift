import Foundation
import Logging

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
        fields["ts"] = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["msg"] = "\(event.message)"
        var line = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        line.append(0x0A)
        output.write(line)
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
