import Actions
import Auth
import Gate
import Hummingbird
import Logging
import Persistence
import PostgresNIO
import Prometheus
import Redis
import ServiceLifecycle

/// The connections, registries and security components one application instance
/// runs on. The executable builds them from `AppConfig`; tests build them against
/// throwaway servers.
struct AppServices: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let metrics: HTTPMetrics
    let authenticator: Authenticator
    let apiKeys: APIKeyStore
    let jobs: JobStore
    /// Submissions' inserts and the job reads of replays and GETs, each sent to
    /// Postgres together when they arrive together.
    let jobInserts: JobInsertBatcher
    let jobLookups: JobLookupBatcher
    let policies: PolicyStore
    /// In-memory copies for the hot path; see `ConfigCacheInvalidation`.
    let keyCache: CachedAPIKeyLookup
    let policyCache: CachedPolicyLookup
    let approvals: ApprovalStore
    let auditLog: AuditStore
    let events: JobEvents
    let gateMetrics: GateMetrics
    let execution: ExecutionStore
    let tasks: TaskStore
    let executionMetrics: ExecutionMetrics
    let gmailCredentials: GmailCredentialStore
    let webhookSecrets: WebhookSecretStore
    let email: any EmailDelivery
    let denialAudit: DenialAuditBudget
    let authFailures: AuthFailureThrottle
    /// Event streams and long-polls open in this replica (per principal and in all).
    let eventWaiters: ConcurrencyLimit
    /// Workspaces a JWT may name that exist (`WorkspaceAccessMiddleware`).
    let workspaces: KnownWorkspaces
    /// Which workspaces' automatic queues are past their limits, as last sampled.
    let queuePressure: QueuePressureBoard
    let workspaceQueueMetrics: WorkspaceQueueMetrics
    let consoleSessions: ConsoleSessionStore
    /// `EMAIL_DELIVERY=outbox` only: where `gmail.send` messages are kept instead of sent.
    let outbox: DevOutboxStore
    /// The bytes of `gmail.send` files.
    let jobAttachments: JobAttachmentStore
    let reviewerDirectory: ReviewerDirectoryStore
    /// Approvals' notices and notification messages; decision links (issue 27).
    let notifications: NotificationStore
    let decisionLinks: DecisionLinkStore
    let notificationMetrics: NotificationMetrics
    /// Submissions whose bodies may be larger than `MAX_BODY_BYTES` (files), at once in this replica.
    let largeSubmissions: ConcurrencyLimit

    init(config: AppConfig, logger: Logger) async throws {
        postgres = PostgresClient(configuration: config.database, backgroundLogger: logger)
        redis = try RedisClient(configuration: config.redis, logger: logger)
        metrics = HTTPMetrics(registry: PrometheusCollectorRegistry())
        apiKeys = APIKeyStore(client: postgres, logger: logger)
        jobs = JobStore(client: postgres, logger: logger)
        // A batch that outlives the request limit is given up (its statement may never
        // return after a Postgres restart), so that it cannot hold a batch slot for good.
        let batchLimit = config.databaseTimeout
        jobInserts = JobInsertBatcher(store: jobs) { batch in
            try await withTimeout(batchLimit, dependency: "postgres", batch)
        }
        jobLookups = JobLookupBatcher(store: jobs) { batch in
            try await withTimeout(batchLimit, dependency: "postgres", batch)
        }
        policies = PolicyStore(client: postgres, logger: logger)
        keyCache = CachedAPIKeyLookup(TimedAPIKeyLookup(base: apiKeys, timeout: config.databaseTimeout), ttl: config.configCacheTTL)
        let policies = self.policies, databaseTimeout = config.databaseTimeout
        policyCache = CachedPolicyLookup(ttl: config.configCacheTTL) { workspaceID, action in
            try await withTimeout(databaseTimeout, dependency: "postgres") {
                try await policies.find(workspaceID: workspaceID, action: action)
            }
        }
        approvals = ApprovalStore(client: postgres, logger: logger)
        auditLog = AuditStore(client: postgres, logger: logger)
        events = JobEvents()
        gateMetrics = GateMetrics(registry: metrics.registry)
        execution = ExecutionStore(client: postgres, logger: logger)
        tasks = TaskStore(client: postgres, logger: logger)
        executionMetrics = ExecutionMetrics(registry: metrics.registry)
        queuePressure = QueuePressureBoard()
        workspaceQueueMetrics = WorkspaceQueueMetrics(registry: metrics.registry)
        gmailCredentials = GmailCredentialStore(client: postgres, logger: logger)
        webhookSecrets = WebhookSecretStore(client: postgres, logger: logger)
        workspaces = KnownWorkspaces(store: WorkspaceStore(client: postgres, logger: logger))
        denialAudit = DenialAuditBudget(perMinute: config.authDenialAuditPerMinute, burst: config.authDenialAuditBurst)
        authFailures = AuthFailureThrottle(perMinute: config.limits.authFailuresPerMinute, burst: config.limits.authFailuresBurst)
        eventWaiters = ConcurrencyLimit(config.limits.eventWaitersPerReplica, perKey: config.limits.eventWaitersPerPrincipal)
        consoleSessions = ConsoleSessionStore(client: postgres, logger: logger)
        outbox = DevOutboxStore(client: postgres, logger: logger)
        jobAttachments = JobAttachmentStore(client: postgres, logger: logger)
        reviewerDirectory = ReviewerDirectoryStore(client: postgres, logger: logger)
        notifications = NotificationStore(client: postgres, logger: logger)
        decisionLinks = DecisionLinkStore(client: postgres, logger: logger)
        notificationMetrics = NotificationMetrics(registry: metrics.registry)
        largeSubmissions = ConcurrencyLimit(config.limits.largeSubmissionsPerReplica, perKey: config.limits.largeSubmissionsPerReplica)
        switch config.console.emailDelivery {
        case .outbox:
            email = OutboxDelivery(outbox: outbox, configuration: config.gmail.sender)
        case .gmail:
            email = GmailDelivery(
                credentials: gmailCredentials, secrets: config.gmail.secrets,
                sender: GmailSender(
                    client: GmailClient(configuration: config.gmail.client),
                    tokens: GoogleTokenProvider(configuration: config.gmail.tokens),
                    configuration: config.gmail.sender),
                notificationAccount: config.notifications.account)
        }
        let jwt = try await JWTVerifier(settings: config.jwt, logger: logger)
        authenticator = Authenticator(keys: keyCache, jwt: jwt, logger: logger)
    }
}

/// How long a background worker's Postgres call (an executor's claim, the listener's
/// heartbeat) may take: fixed and short, so that SIGTERM stops a replica within about
/// that long even while Postgres is unreachable. Requests have their own limit
/// (`AppConfig.databaseTimeout`).
let workerDatabaseTimeout: Duration = .seconds(2)

/// How long an audit verify, or the seal before an export, may take (a large backlog
/// or a long log); the connection itself still has to answer within `AppConfig.databaseTimeout`.
let auditTimeout: Duration = .seconds(300)

/// Builds the whole HTTP application; shared by `gate-api serve` and the tests so
/// that what is tested is what runs.
func buildApplication(config: AppConfig, services: AppServices, logger: Logger) -> some ApplicationProtocol {
    let router = buildRouter(config: config, services: services)

    // Started after, and stopped before, the clients they use.
    var background: [any Service] = [
        NotificationsListener(
            postgres: services.postgres,
            channels: [
                .init(name: jobEventsChannel, onNotification: services.events.publish),
                ConfigCacheInvalidation(keys: services.keyCache, policies: services.policyCache).listenerChannel,
            ],
            logger: logger),
        JobEventsResync(events: services.events, jobs: services.jobs, logger: logger),
        // In every replica, background workers or not: each answers submissions from its own samples.
        QueueSampler(
            store: services.execution, limits: config.limits.workspaceQueue, board: services.queuePressure,
            metrics: services.workspaceQueueMetrics, interval: config.limits.queueSampleInterval,
            timeout: config.databaseTimeout, logger: logger),
    ]
    if config.backgroundWorkers {
        background.append(
            ApprovalExpirySweeper(
                approvals: services.approvals, interval: config.sweepInterval, gateMetrics: services.gateMetrics, logger: logger))
        if config.webhooks.secret != nil {
            background.append(
                WebhookDeliverer(
                    store: WebhookStore(client: services.postgres, logger: logger), settings: config.webhooks,
                    secrets: config.gmail.secrets, resolver: .system, interval: .milliseconds(250), logger: logger))
        }
        background.append(
            ApprovalNotifier(
                store: services.notifications, links: decideByLink(config: config, services: services), email: services.email,
                slack: config.notifications.slack.map { SlackClient(settings: $0) }, settings: config.notifications,
                metrics: services.notificationMetrics, logger: logger))
        background.append(AuditSealer(
                store: services.auditLog, interval: config.auditSealInterval, gateMetrics: services.gateMetrics, logger: logger))
        background.append(
            HistoryPurger(
                jobs: services.jobs, consoleSessions: services.consoleSessions, ttlSeconds: config.approvalHistoryTTLSeconds,
                idempotencyTTLSeconds: config.idempotencyTTLSeconds, maxPerWorkspace: config.maxApprovalHistory,
                interval: config.purgeInterval, logger: logger))
    }
    if config.executor.concurrency > 0 {
        background.append(
            JobExecutor(
                store: services.execution, policies: services.policies, email: services.email,
                attachments: TimedJobAttachments(store: services.jobAttachments, timeout: .seconds(30)), events: services.events,
                settings: config.executor, metrics: services.executionMetrics, name: ExecutorName.make(), logger: logger))
    }
    let named: [any Service] = ([services.postgres, services.redis] + background).map {
        LoggedService(name: String(describing: type(of: $0)), base: $0, logger: logger)
    }
    return Application(
        router: router,
        // Closes connections that send nothing for this long, an unfinished request head
        // included (its bytes do not count as activity until the head is complete); a
        // response being written is never cut off by it.
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(config.limits.httpReadTimeout.seconds * 1e9)))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "GateAPI"),
        services: named,
        logger: logger
    )
}

/// Every route and middleware of the HTTP API: what `buildApplication` serves, and
/// what `OpenAPITests` compares with the OpenAPI document (`router.routes`).
func buildRouter(config: AppConfig, services: AppServices) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost first: the client's address behind trusted proxies, for every limit and
    // audit row; then every response, problems included, gets an id and is measured.
    if !config.limits.trustedProxies.isEmpty {
        router.add(middleware: ClientAddressMiddleware(trustedProxies: config.limits.trustedProxies))
    }
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ProblemMiddleware())
    router.add(
        middleware: BodyLimitMiddleware(
            maxBodyBytes: config.maxBodyBytes, maxSubmissionBodyBytes: config.limits.maxSubmissionBodyBytes,
            bodyReadTimeout: config.limits.httpReadTimeout))

    HealthController(
        postgres: services.postgres, redis: services.redis, metrics: services.metrics,
        readinessTimeout: .seconds(2), metricsToken: config.limits.metricsToken
    ).addRoutes(to: router)
    APIDocsController().addRoutes(to: router)

    let audit = SecurityAudit(postgres: services.postgres, timeout: config.databaseTimeout)
    let denials = BudgetedDenialAudit(audit: audit, budget: services.denialAudit, unaudited: services.gateMetrics.unauditedDenials)
    // Every workspace route: which workspace, who is calling, are they a member (else
    // 404), within limits. Submissions take their rate-limit charge with their
    // idempotency claim (one Redis round trip); every other route up front.
    let member = router.group("v1/workspaces/{ws}")
        .add(middleware: WorkspacePathMiddleware())
        .add(middleware: AuthenticationMiddleware(authenticator: services.authenticator, denials: denials, failures: services.authFailures))
        .add(middleware: WorkspaceAccessMiddleware(denials: denials, workspaces: services.workspaces, timeout: config.databaseTimeout))
    let limiter = RateLimiter(redis: services.redis, settings: config.rateLimits, keyPrefix: config.redisKeyPrefix)
    let workspace = member.group().add(middleware: RateLimitMiddleware(limiter: limiter))
    let submissions = member.group().add(middleware: RateLimitMiddleware(limiter: limiter, defersChargeToClaim: true))

    let keys = AdministerKeys(
        store: TimedKeyAdministration(store: services.apiKeys, timeout: config.databaseTimeout),
        rotationOverlapSeconds: config.keyRotationOverlapSeconds)
    let timeout = config.databaseTimeout
    let jobReads = TimedJobReads(lookups: services.jobLookups, jobs: services.jobs, timeout: timeout)
    APIKeysController(reads: TimedKeyReads(store: services.apiKeys, timeout: timeout), keys: keys, cache: services.keyCache)
        .addRoutes(to: workspace.group("api-keys").add(middleware: RequireScope(.keysAdmin, audit: audit)))
    let changePolicy = ChangePolicy(
        store: TimedPolicyStoring(store: services.policies, timeout: config.databaseTimeout),
        defaultApprovalTimeoutSeconds: config.approvalTimeoutSeconds)
    PoliciesController(
        reads: TimedPolicyReads(store: services.policies, timeout: timeout), changePolicy: changePolicy, cache: services.policyCache,
        audit: audit
    ).addRoutes(to: workspace)
    let directory = TimedReviewerDirectory(store: services.reviewerDirectory, timeout: timeout)
    ReviewersController(
        directory: ManageReviewerDirectory(store: directory), delegate: DelegateReviews(store: directory), audit: audit
    ).addRoutes(to: workspace)
    let submitJob = SubmitJob(
        store: TimedJobSubmissions(
            jobs: services.jobs, inserts: services.jobInserts, lookups: services.jobLookups, timeout: config.databaseTimeout),
        policies: services.policyCache, runnable: services.events, webhooksEnabled: config.webhooks.secret != nil,
        backpressure: services.queuePressure)
    JobsController(
        jobs: jobReads, events: services.events,
        waiters: services.eventWaiters, submitJob: submitJob,
        cancelJob: CancelJob(store: TimedJobCancellation(store: services.approvals, timeout: config.databaseTimeout)),
        idempotency: IdempotencyGuard(redis: services.redis, ttlSeconds: config.idempotencyTTLSeconds, keyPrefix: config.redisKeyPrefix),
        audit: audit,
        largeBodies: JobsController.LargeBodies(slots: services.largeSubmissions, smallBodyBytes: config.maxBodyBytes)
    ).addRoutes(to: workspace, submissions: submissions)

    let metrics = services.gateMetrics
    let vote = approvalVote(config: config, services: services) { decided in
        if let decidedAt = decided.decidedAt {
            metrics.decisionLatency.record(.seconds(max(0, decidedAt.timeIntervalSince(decided.createdAt))))
        }
    }
    ApprovalsController(
        reads: TimedApprovalReads(approvals: services.approvals, jobs: jobReads, timeout: timeout), vote: vote, audit: audit,
        files: TimedJobAttachments(store: services.jobAttachments, timeout: max(timeout, .seconds(30)))
    ).addRoutes(to: workspace)


    TasksController(reads: TimedTaskReads(store: services.tasks, timeout: timeout), audit: audit).addRoutes(to: workspace)
    let requeue = RequeueDeadLetter(
        store: TimedDeadLetters(execution: services.execution, jobs: services.jobs, timeout: config.databaseTimeout))
    DeadLettersController(jobs: jobReads, requeueDeadLetter: requeue, audit: audit)
        .addRoutes(to: workspace)
    WebhookSecretsController(
        secrets: ManageWebhookSecrets(
            store: TimedWebhookSecrets(store: services.webhookSecrets, timeout: config.databaseTimeout), secrets: config.gmail.secrets)
    ).addRoutes(to: workspace.group("webhook-secrets").add(middleware: RequireScope(.policiesAdmin, audit: audit)))
    GmailCredentialsController(
        credentials: ManageGmailCredentials(
            store: TimedGmailCredentials(store: services.gmailCredentials, timeout: config.databaseTimeout),
            secrets: config.gmail.secrets),
        audit: audit
    ).addRoutes(to: workspace)
    let auditController = AuditController(
        log: ReadAuditLog(store: TimedAuditChain(store: services.auditLog, timeout: config.databaseTimeout, longTimeout: auditTimeout)),
        audit: audit,
        longOperations: ConcurrencyLimit(config.auditExportConcurrency, perKey: config.limits.auditExportsPerWorkspace),
        exportIdleTimeout: config.limits.auditExportIdleTimeout, exportMaxDuration: config.limits.auditExportMaxDuration)
    auditController.addRoutes(to: workspace)
    // The console's templates, parsed once: its routes and the 405 page share them.
    let consolePages = ConsolePages()
    let decide = decideByLink(config: config, services: services, vote: vote)
    DecisionLinkController(pages: consolePages, decide: decide, publicURL: config.notifications.publicURL).addRoutes(
        to: router.group("decide")
            .add(middleware: ConsoleErrorPages(pages: consolePages))
            .add(middleware: ConsoleSignInThrottle(failures: services.authFailures)))
    if let slack = config.notifications.slack {
        SlackInteractionsController(settings: slack, slack: SlackClient(settings: slack), decide: decide, metrics: services.notificationMetrics, logger: Logger(label: "gateapi.slack"))
            .addRoutes(to: router)
    }
    addConsoleRoutes(
        to: router, pages: consolePages, config: config, services: services, vote: vote,
        approvalReads: TimedApprovalReads(approvals: services.approvals, jobs: jobReads, timeout: timeout), jobReads: jobReads,
        auditController: auditController, admin: ConsoleAdministration(changePolicy: changePolicy, keys: keys, requeue: requeue),
        audit: audit, denials: denials, limiter: limiter)
    // Last: it wraps only the not-found answer, and needs every route.
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes, consolePages: consolePages))
    return router
}

/// The one vote every front door casts (API, console, links, Slack), with the
/// directory's word on group rules and delegation.
func approvalVote(
    config: AppConfig, services: AppServices, decided: @escaping @Sendable (ApprovalRecord) -> Void = { _ in }
) -> VoteOnApproval {
    VoteOnApproval(
        store: TimedApprovalVoting(store: services.approvals, timeout: config.databaseTimeout),
        standingLookup: TimedReviewerDirectory(store: services.reviewerDirectory, timeout: config.databaseTimeout),
        decided: decided)
}

/// Deciding from a notification's link or Slack button: the same vote as the API's,
/// cast as the link's person.
func decideByLink(config: AppConfig, services: AppServices, vote: VoteOnApproval? = nil) -> DecideByLink {
    let timeout = config.databaseTimeout
    let policies = services.policyCache
    return DecideByLink(
        links: TimedDecisionLinks(store: services.decisionLinks, timeout: timeout),
        approvals: TimedApprovalReads(
            approvals: services.approvals, jobs: TimedJobReads(lookups: services.jobLookups, jobs: services.jobs, timeout: timeout),
            timeout: timeout),
        vote: vote ?? approvalVote(config: config, services: services),
        directory: TimedReviewerDirectory(store: services.reviewerDirectory, timeout: timeout),
        policies: { workspace, action in
            try await policies.find(workspaceID: workspace, action: action)?.notifications ?? NotificationRules()
        })
}
