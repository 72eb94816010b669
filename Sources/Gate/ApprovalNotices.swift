import Approvals
import Foundation
import GateCore

/// A durable timer of an approval (issue 27): announce it, remind, escalate, or (for
/// Slack) say who decided. Each fires exactly once across replicas.
public enum NoticeKind: String, Sendable {
    case requested, reminder, escalation, decided
}

/// What a due notice is decided on, read in the transaction that will queue its
/// deliveries.
public struct NoticeContext: Sendable {
    public var kind: NoticeKind
    public var approval: ApprovalRecord
    /// The people the job was submitted by or for: never told to decide on it (the vote
    /// itself refuses them, with the key chain; this only spares them the message).
    public var submitters: Set<String>
    public var rules: NotificationRules
    public var directory: [DirectoryEntry]
    /// For `decided`: the Slack messages sent for the approval (person, member id).
    public var slackMessaged: [(person: String, address: String)]
    /// Whether this deployment can post to Slack at all.
    public var slackConfigured: Bool
    /// The store's clock, for delegations.
    public var now: Date

    public init(
        kind: NoticeKind, approval: ApprovalRecord, submitters: Set<String>, rules: NotificationRules, directory: [DirectoryEntry],
        slackMessaged: [(person: String, address: String)] = [], slackConfigured: Bool, now: Date = Date()
    ) {
        self.now = now
        self.kind = kind
        self.approval = approval
        self.submitters = submitters
        self.rules = rules
        self.directory = directory
        self.slackMessaged = slackMessaged
        self.slackConfigured = slackConfigured
    }
}

public struct PlannedDelivery: Sendable, Equatable {
    public var person: String
    public var channel: NotificationRules.Channel
    public var address: String

    public init(person: String, channel: NotificationRules.Channel, address: String) {
        self.person = person
        self.channel = channel
        self.address = address
    }
}

public struct PlannedTimer: Sendable, Equatable {
    public var kind: NoticeKind
    public var seq: Int
    public var dueAt: Date

    public init(kind: NoticeKind, seq: Int, dueAt: Date) {
        self.kind = kind
        self.seq = seq
        self.dueAt = dueAt
    }
}

/// What a due notice does: the messages to queue, the timers it starts, and whether
/// the agent's webhook hears `approval.requested`.
public struct NoticePlan: Sendable, Equatable {
    public var deliveries: [PlannedDelivery] = []
    public var timers: [PlannedTimer] = []
    public var announceToAgent = false

    public init() {}
}

/// Who is told what, and when (issue 27 "Notifications", "Reminders and escalation").
public enum NoticePlanner {
    public static func plan(_ context: NoticeContext) -> NoticePlan {
        var plan = NoticePlan()
        let approval = context.approval
        if context.kind == .decided {
            guard approval.status != .pending else { return plan }
            plan.deliveries = context.slackMessaged.map { PlannedDelivery(person: $0.person, channel: .slack, address: $0.address) }
            return plan
        }
        // A decided (or cancelled, expired) approval needs nobody any more.
        guard approval.status == .pending else { return plan }
        let voted = Set(approval.votes.compactMap(\.reviewerPerson))
        let rules = context.rules
        let groups = rules.groups.isEmpty ? deciders(approval) : Set(rules.groups)
        let audience: [DirectoryEntry]
        switch context.kind {
        case .requested:
            plan.announceToAgent = true
            plan.timers = timers(for: approval, rules: rules)
            audience = context.directory.filter { groups.isEmpty || !groups.isDisjoint(with: $0.groups) }
        case .reminder:
            audience = context.directory.filter { groups.isEmpty || !groups.isDisjoint(with: $0.groups) }
        case .escalation:
            guard let backup = rules.escalateTo else { return plan }
            audience = context.directory.filter { $0.groups.contains(backup) }
        case .decided:
            audience = []
        }
        let byPerson = Dictionary(context.directory.map { ($0.person, $0) }, uniquingKeysWith: { first, _ in first })
        var told: Set<String> = []
        for listed in audience where listed.notify && !context.submitters.contains(listed.person) && !voted.contains(listed.person) {
            // Out of office: their delegate hears it instead — unless the delegate
            // submitted the job and so cannot decide it.
            var entry = listed
            if let delegation = listed.delegation, delegation.isActive(at: context.now), let delegate = byPerson[delegation.delegate],
                !context.submitters.contains(delegate.person)
            {
                entry = delegate
            }
            guard !context.submitters.contains(entry.person), !voted.contains(entry.person), told.insert(entry.person).inserted
            else { continue }
            if rules.channels.contains(.email) {
                plan.deliveries.append(PlannedDelivery(person: entry.person, channel: .email, address: entry.email))
            }
            if rules.channels.contains(.slack), context.slackConfigured, let member = entry.slackUserID {
                plan.deliveries.append(PlannedDelivery(person: entry.person, channel: .slack, address: member))
            }
        }
        return plan
    }

    /// The groups whose members alone can decide the approval (its approver rules, when
    /// they leave no slot to anybody else); empty: everyone may.
    static func deciders(_ approval: ApprovalRecord) -> Set<String> {
        let rules = approval.approverRules
        guard !rules.isEmpty, QuorumMatching.freeSlots(requiredApprovals: approval.requiredApprovals, rules: rules) == 0 else {
            return []
        }
        return Set(rules.map(\.group))
    }

    /// Reminders at fractions of the approval's lifetime; escalation after its delay,
    /// if that comes before the deadline.
    static func timers(for approval: ApprovalRecord, rules: NotificationRules) -> [PlannedTimer] {
        let lifetime = approval.expiresAt.timeIntervalSince(approval.createdAt)
        var timers = rules.remindAt.enumerated().map { index, fraction in
            PlannedTimer(kind: .reminder, seq: index, dueAt: approval.createdAt.addingTimeInterval(lifetime * fraction))
        }
        if rules.escalateTo != nil, let delay = rules.escalateAfterSeconds, TimeInterval(delay) < lifetime {
            timers.append(PlannedTimer(kind: .escalation, seq: 0, dueAt: approval.createdAt.addingTimeInterval(TimeInterval(delay))))
        }
        return timers
    }
}

/// A notification message waiting to go (or retried), with what rendering it needs.
public struct DueDelivery: Sendable {
    public var id: Int64
    public var kind: NoticeKind
    public var person: String
    public var channel: NotificationRules.Channel
    public var address: String
    public var attempts: Int
    public var approval: ApprovalRecord
    public var job: JobRecord
    public var rules: NotificationRules
    public var displayName: String?
    /// For `decided`: the Slack message to update (`channel ts`).
    public var slackMessage: String?

    public init(
        id: Int64, kind: NoticeKind, person: String, channel: NotificationRules.Channel, address: String, attempts: Int,
        approval: ApprovalRecord, job: JobRecord, rules: NotificationRules, displayName: String?, slackMessage: String?
    ) {
        self.id = id
        self.kind = kind
        self.person = person
        self.channel = channel
        self.address = address
        self.attempts = attempts
        self.approval = approval
        self.job = job
        self.rules = rules
        self.displayName = displayName
        self.slackMessage = slackMessage
    }
}

/// A notification as the console lists it.
public struct DeliveryRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: NoticeKind
    public var person: String
    public var channel: NotificationRules.Channel
    public var address: String
    public var status: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?

    public init(
        id: Int64, kind: NoticeKind, person: String, channel: NotificationRules.Channel, address: String, status: String,
        attempts: Int, lastError: String?, createdAt: Date, deliveredAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.person = person
        self.channel = channel
        self.address = address
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

/// Where notices and their deliveries are kept (Persistence: `NotificationStore`).
public protocol NotificationStoring: Sendable {
    /// Takes up to `limit` due notices (SKIP LOCKED), plans each with `plan`, queues
    /// its deliveries, timers and agent webhook, and marks it done — all in one
    /// transaction. Returns how many notices fired.
    func fireDueNotices(limit: Int, slackConfigured: Bool, plan: @Sendable (NoticeContext) -> NoticePlan) async throws -> Int
    /// Takes up to `limit` due deliveries, leased for `lease` (another replica takes a
    /// delivery again only once its lease is over).
    func claimDueDeliveries(limit: Int, lease: Duration) async throws -> [DueDelivery]
    func markDelivered(id: Int64, externalID: String?) async throws
    /// A failed attempt: retried at `retryAt`, or given up (nil), with the error.
    func markFailed(id: Int64, error: String, retryAt: Date?) async throws
    /// Not sent: the approval needs nobody any more.
    func markSkipped(id: Int64, reason: String) async throws
    func deliveries(workspaceID: String, approvalID: String) async throws -> [DeliveryRecord]
}
