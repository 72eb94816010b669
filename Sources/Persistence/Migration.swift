import Crypto
import Foundation
import Gate
import GateCore

/// One numbered SQL file from `migrations/`, e.g. `0001_workspaces.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file, recorded when applied, so an edited migration is noticed.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = Hex.encode(SHA256.hash(data: Data(sql.utf8)))
    }

    /// Reads every `NNNN_name.sql` in `directory`, ordered by number. Other files are
    /// ignored; two files with one number are an error.
    public static func load(from directory: String) throws -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.directoryUnreadable(directory)
        }
        var migrations: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError.badFileName(file)
            }
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MigrationError.directoryUnreadable(path)
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]),
                                        sql: String(decoding: data, as: UTF8.self)))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        return migrations
    }
}

public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case directoryUnreadable(String)
    case badFileName(String)
    case duplicateVersion(Int)
    case modified(version: Int, name: String)
    case failed(version: Int, name: String, reason: String)

    public var description: String {
        switch self {
        case .directoryUnreadable(let path): return "cannot read migrations at \(path) (set MIGRATIONS_DIR)"
        case .badFileName(let file): return "migration file \(file) must be named NNNN_name.sql"
        case .duplicateVersion(let version): return "two migration files have version \(version)"
        case .modified(let version, let name):
            return "migration \(version)_\(name) was changed after it was applied; add a new migration instead"
        case .failed(let version, let name, let reason): return "migration \(version)_\(name) failed: \(reason)"
        }
    }
}
