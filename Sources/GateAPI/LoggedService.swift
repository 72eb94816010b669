import Logging
import ServiceLifecycle

/// A service that says in the log when graceful shutdown reaches it and when it has
/// stopped. Services stop one after another (in reverse order of start), so a replica
/// slow to stop names the service it is waiting for.
struct LoggedService: Service, CustomStringConvertible {
    let name: String
    let base: any Service
    let logger: Logger

    var description: String { name }

    func run() async throws {
        let logger = self.logger
        let name = self.name
        defer { logger.info("service stopped", metadata: ["service": "\(name)"]) }
        try await withGracefulShutdownHandler {
            try await base.run()
        } onGracefulShutdown: {
            logger.info("service stopping", metadata: ["service": "\(name)"])
        }
    }
}
