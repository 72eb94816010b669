import Gate
import Hummingbird
import Logging
import Persistence

/// The reviewer console (docs/console.md) on the API's router: its own sign-in in front,
/// then the API's workspace checks (membership 404, scopes 403, rate limits) and use
/// cases, with every answer a page (`ConsoleErrorPages`).
func addConsoleRoutes(
    to router: Router<AppRequestContext>, pages: ConsolePages, config: AppConfig, services: AppServices, vote: VoteOnApproval,
    approvalReads: TimedApprovalReads, jobReads: TimedJobReads, auditController: AuditController, admin: ConsoleAdministration,
    audit: SecurityAudit,
    denials: BudgetedDenialAudit, limiter: RateLimiter
) {
    let outboxEnabled = config.console.emailDelivery == .outbox
    let signIn = ConsoleSignIn(
        store: TimedConsoleSessions(store: services.consoleSessions, timeout: config.databaseTimeout), settings: config.console.signIn)
    let console = router.group("console").add(middleware: ConsoleErrorPages(pages: pages))
    let signedIn = console.group().add(middleware: ConsoleSessionMiddleware(signIn: signIn, pages: pages))
    // The doors before sign-in that cost a statement: a budget per client address.
    let throttled = console.group().add(middleware: ConsoleSignInThrottle(failures: services.authFailures))
    ConsoleController(pages: pages, signIn: signIn, identityProvider: config.console.oidc != nil)
        .addRoutes(to: console, signedIn: signedIn, throttled: throttled)
    if let oidc = config.console.oidc {
        ConsoleOIDCController(
            provider: OIDCProvider(settings: oidc, logger: Logger(label: "gateapi.console")), signIn: signIn, publicURL: config.console.publicURL
        ).addRoutes(to: throttled, failures: services.authFailures)
    }
    let attachmentReads = TimedJobAttachments(store: services.jobAttachments, timeout: max(config.databaseTimeout, .seconds(30)))
    let workspace = signedIn.group("w/{ws}")
        .add(middleware: WorkspacePathMiddleware())
        .add(middleware: WorkspaceAccessMiddleware(denials: denials, workspaces: services.workspaces, timeout: config.databaseTimeout))
        .add(middleware: RateLimitMiddleware(limiter: limiter))
    ConsoleApprovalsController(
        pages: pages, reads: approvalReads, vote: vote, events: services.events, waiters: services.eventWaiters, audit: audit,
        outboxEnabled: config.console.emailDelivery == .outbox,
        download: DownloadApprovalFile(approvals: approvalReads, files: attachmentReads), files: attachmentReads,
        notifications: TimedNotificationReads(store: services.notifications, timeout: config.databaseTimeout)
    ).addRoutes(to: workspace)
    ConsoleJobController(
        pages: pages, jobs: jobReads, approvals: services.approvals, webhooks: WebhookStore(client: services.postgres, logger: Logger(label: "gateapi.console")),
        log: auditController.log, audit: audit, timeout: config.databaseTimeout, outboxEnabled: outboxEnabled
    ).addRoutes(to: workspace)
    ConsoleAuditController(pages: pages, audit: auditController, securityAudit: audit, outboxEnabled: outboxEnabled).addRoutes(to: workspace)
    ConsoleAdminController(
        pages: pages, policies: TimedPolicyReads(store: services.policies, timeout: config.databaseTimeout),
        changePolicy: admin.changePolicy, policyCache: services.policyCache, jobs: jobReads, requeue: admin.requeue, audit: audit,
        outboxEnabled: outboxEnabled
    ).addRoutes(to: workspace)
    ConsoleKeysController(
        pages: pages, reads: TimedKeyReads(store: services.apiKeys, timeout: config.databaseTimeout), keys: admin.keys,
        cache: services.keyCache, audit: audit, outboxEnabled: outboxEnabled
    ).addRoutes(to: workspace)
    let reviewers = TimedReviewerDirectory(store: services.reviewerDirectory, timeout: config.databaseTimeout)
    ConsoleReviewersController(
        pages: pages, directory: ManageReviewerDirectory(store: reviewers), audit: audit, outboxEnabled: outboxEnabled
    ).addRoutes(to: workspace)
    ConsoleDelegationController(
        pages: pages, directory: ManageReviewerDirectory(store: reviewers), delegate: DelegateReviews(store: reviewers), audit: audit,
        outboxEnabled: outboxEnabled
    ).addRoutes(to: workspace)
    if outboxEnabled {
        ConsoleOutboxController(
            pages: pages, outbox: TimedOutboxReads(outbox: services.outbox, timeout: config.databaseTimeout), audit: audit,
            publicURL: config.notifications.publicURL)
            .addRoutes(to: workspace)
    }
}

/// The administration use cases the API's controllers use, for the console's admin pages.
struct ConsoleAdministration: Sendable {
    let changePolicy: ChangePolicy
    let keys: AdministerKeys
    let requeue: RequeueDeadLetter
}
