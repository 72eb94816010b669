import Approvals
import Crypto
import Foundation
import GateCore

/// A decision link as stored: a capability for one person to make one decision on one
/// approval as it was when the message was sent (its payload hash), once, until
/// `expiresAt`. The token itself is never stored, only its SHA-256.
public struct DecisionLink: Sendable, Equatable {
    public var workspaceID: String
    public var approvalID: String
    public var person: String
    public var decision: VoteDecision
    public var payloadHash: String
    public var expiresAt: Date
    public var usedAt: Date?

    public init(
        workspaceID: String, approvalID: String, person: String, decision: VoteDecision, payloadHash: String, expiresAt: Date,
        usedAt: Date? = nil
    ) {
        self.workspaceID = workspaceID
        self.approvalID = approvalID
        self.person = person
        self.decision = decision
        self.payloadHash = payloadHash
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// Why a link decided nothing (before any vote was attempted; a vote's own refusals
/// — payload changed, decided, expired, own job — come back as the vote's outcome).
public enum DecisionLinkRefusal: String, Error, Sendable {
    /// No such link (mistyped, forged, or purged with its approval).
    case unknown
    case used
    case expired
    /// The Slack member who pressed the button is not the person the message was for.
    case wrongPerson = "wrong_person"
    /// The policy now wants a console sign-in for this action (step-up).
    case signInRequired = "sign_in_required"
}

/// Where links are kept (Persistence: `DecisionLinkStore`).
public protocol DecisionLinkStoring: Sendable {
    func create(tokenHash: [UInt8], link: DecisionLink, deliveryID: Int64?) async throws
    func find(tokenHash: [UInt8]) async throws -> DecisionLink?
    /// Marks the link used, with its `decision_link.used` audit row, if it is neither
    /// used nor expired; nil otherwise (somebody spent it first).
    func spend(tokenHash: [UInt8], via channel: String, actor: AuditActor) async throws -> DecisionLink?
    /// Audits a refusal (`decision_link.refused`) in the link's workspace.
    func refuse(_ link: DecisionLink, because refusal: DecisionLinkRefusal, via channel: String, actor: AuditActor) async throws
}

/// Deciding from a notification (issue 27 "Decision links"): opening a link shows what
/// it would decide and never decides (mail scanners and link previews open links);
/// confirming spends it and casts the person's vote through `VoteOnApproval`, so every
/// rule of the gate applies as in the API.
public struct DecideByLink: Sendable {
    static let prefix = "gdl_"

    let links: any DecisionLinkStoring
    let approvals: any ApprovalWithJobLookup
    let vote: VoteOnApproval
    let directory: any ReviewerDirectoryStoring
    let policies: @Sendable (_ workspace: String, _ action: String) async throws -> NotificationRules

    public init(
        links: any DecisionLinkStoring, approvals: any ApprovalWithJobLookup, vote: VoteOnApproval,
        directory: any ReviewerDirectoryStoring,
        policies: @escaping @Sendable (_ workspace: String, _ action: String) async throws -> NotificationRules
    ) {
        self.links = links
        self.approvals = approvals
        self.vote = vote
        self.directory = directory
        self.policies = policies
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// A new link's token (put in the message; stored hashed). It lives until the
    /// approval's deadline or `lifetime`, whichever comes first.
    public func mint(
        for approval: ApprovalRecord, person: String, decision: VoteDecision, lifetime: Duration, deliveryID: Int64?, now: Date = Date()
    ) async throws -> String {
        let token = Self.prefix + Base32.random(count: 32)
        let expiresAt = min(approval.expiresAt, now.addingTimeInterval(TimeInterval(lifetime.components.seconds)))
        try await links.create(
            tokenHash: Self.hash(token),
            link: DecisionLink(
                workspaceID: approval.workspaceID, approvalID: approval.id, person: person, decision: decision,
                payloadHash: approval.payloadHash, expiresAt: expiresAt),
            deliveryID: deliveryID)
        return token
    }

    /// What an opened link would decide, for the confirm page; nothing is written.
    public struct Opened: Sendable {
        public let link: DecisionLink
        public let approval: ApprovalRecord
        public let job: JobRecord
    }

    /// Reads the link and its approval; a refusal (unknown, used, expired) is not
    /// audited here — opening is not deciding, and anything may open a link.
    public func open(_ token: String, now: Date = Date()) async throws -> Result<Opened, DecisionLinkRefusal> {
        guard Self.isWellFormed(token), let link = try await links.find(tokenHash: Self.hash(token)) else { return .failure(.unknown) }
        if link.usedAt != nil { return .failure(.used) }
        if link.expiresAt <= now { return .failure(.expired) }
        guard let (approval, job) = try await approvals.findWithJob(workspaceID: link.workspaceID, id: link.approvalID) else {
            return .failure(.unknown)
        }
        return .success(Opened(link: link, approval: approval, job: job))
    }

    /// What confirming did.
    public enum Confirmed: Sendable {
        case refused(DecisionLinkRefusal, DecisionLink?)
        /// The vote's outcome (which may itself be a refusal: payload changed, expired…).
        case voted(DecisionOutcome, DecisionLink)
    }

    /// Spends the link and votes. `slackUser` is the Slack member who pressed a button
    /// (it must be the link's person's, per the directory); `channel` says where the
    /// decision came from (`email`, `slack`) for the audit log. A rejection's `comment`
    /// is its reason; a bad one throws `ValidationFailure` before the link is spent.
    public func confirm(
        _ token: String, comment: String?, reasonCode: String?, slackUser: String? = nil, channel: String, actor: AuditActor,
        now: Date = Date()
    ) async throws -> Confirmed {
        guard Self.isWellFormed(token), let link = try await links.find(tokenHash: Self.hash(token)) else {
            return .refused(.unknown, nil)
        }
        let ballot = try VoteOnApproval.checked(
            VoteOnApproval.Ballot(decision: link.decision, comment: comment, reasonCode: reasonCode, payloadHashSeen: link.payloadHash))
        // A refusal is audited as whoever pressed the button or posted the form — a Slack
        // member, or (a link) someone unknown — never as the person the link was for.
        var refusedActor = actor
        refusedActor.kind = slackUser == nil ? .anonymous : .user
        refusedActor.id = slackUser.map { "slack:\($0)" }
        var actor = actor
        actor.kind = .user
        actor.id = link.person
        let refusal: DecisionLinkRefusal?
        if link.usedAt != nil {
            refusal = .used
        } else if link.expiresAt <= now {
            refusal = .expired
        } else if let slackUser, try await directory.find(workspaceID: link.workspaceID, person: link.person)?.slackUserID != slackUser {
            refusal = .wrongPerson
        } else if let action = try await approvals.findWithJob(workspaceID: link.workspaceID, id: link.approvalID)?.1.action,
                  try await !policies(link.workspaceID, action).decisionLinks
        {
            refusal = .signInRequired
        } else {
            refusal = nil
        }
        if let refusal {
            try await links.refuse(link, because: refusal, via: channel, actor: refusedActor)
            return .refused(refusal, link)
        }
        guard let spent = try await links.spend(tokenHash: Self.hash(token), via: channel, actor: actor) else {
            try await links.refuse(link, because: .used, via: channel, actor: refusedActor)
            return .refused(.used, link)
        }
        let reviewer = Reviewer(principal: "user:\(spent.person)", person: spent.person)
        guard let outcome = try await vote(ballot, on: spent.approvalID, in: spent.workspaceID, by: reviewer, actor: actor) else {
            return .refused(.unknown, spent)
        }
        return .voted(outcome, spent)
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.hasPrefix(prefix) && token.utf8.count == prefix.utf8.count + 32 && Base32.isValid(String(token.dropFirst(prefix.count)))
    }
}
