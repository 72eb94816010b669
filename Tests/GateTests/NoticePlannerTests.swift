import Approvals
import Foundation
import Gate
import GateCore
import Testing

/// Who is told of an approval, when, and by which channel (issue 27).
@Suite struct NoticePlannerTests {
    static let created = Date(timeIntervalSince1970: 1_800_000_000)

    static func approval(status: ApprovalStatus = .pending, votes: [String] = [], lifetime: TimeInterval = 1000) -> ApprovalRecord {
        ApprovalRecord(
            id: "apr_1", workspaceID: "acme", jobID: "job_1", action: "gmail.send", status: status, payloadHash: "h", requiredApprovals: 2,
            expiresAt: created.addingTimeInterval(lifetime), createdAt: created, decidedAt: nil, reason: nil, reasonCode: nil,
            votes: votes.map {
                VoteRecord(reviewer: "user:\($0)", reviewerPerson: $0, decision: .approve, comment: nil, payloadHashSeen: "h", createdAt: created)
            })
    }

    static let directory = [
        DirectoryEntry(person: "rita", email: "rita@acme.example", slackUserID: "URITA1", groups: ["finance"]),
        DirectoryEntry(person: "sam", email: "sam@acme.example", groups: ["finance", "security"]),
        DirectoryEntry(person: "nora", email: "nora@acme.example", slackUserID: "UNORA1", groups: ["finance"], notify: false),
        DirectoryEntry(person: "sec", email: "sec@acme.example", slackUserID: "USEC01", groups: ["security"]),
        DirectoryEntry(person: "bob", email: "bob@acme.example", groups: ["finance"]),
    ]

    static func plan(
        _ kind: NoticeKind, _ rules: NotificationRules = NotificationRules(), approval: ApprovalRecord = approval(), slack: Bool = true
    ) -> NoticePlan {
        NoticePlanner.plan(
            NoticeContext(kind: kind, approval: approval, submitters: ["bob"], rules: rules, directory: directory, slackConfigured: slack))
    }

    static func described(_ plan: NoticePlan) -> [String] {
        plan.deliveries.map { "\($0.person) \($0.channel.rawValue)" }.sorted()
    }

    @Test func everyReviewerWhoTakesNotificationsIsToldButNeverTheSubmitter() {
        let plan = Self.plan(.requested)
        #expect(Self.described(plan) == ["rita email", "rita slack", "sam email", "sec email", "sec slack"])
        #expect(plan.announceToAgent)
        #expect(Self.described(Self.plan(.requested, slack: false)) == ["rita email", "sam email", "sec email"])
    }

    @Test func groupsAndChannelsNarrowWhoIsToldAndHow() {
        let rules = NotificationRules(groups: ["security"], channels: [.slack])
        #expect(Self.described(Self.plan(.requested, rules)) == ["sec slack"])
    }

    @Test func remindersSkipThoseWhoVotedAndEscalationTellsTheBackupGroup() {
        let rules = NotificationRules(groups: ["finance"], remindAt: [0.5, 0.9], escalateTo: "security", escalateAfterSeconds: 300)
        let requested = Self.plan(.requested, rules)
        #expect(Self.described(requested) == ["rita email", "rita slack", "sam email"])
        #expect(requested.timers == [
            PlannedTimer(kind: .reminder, seq: 0, dueAt: Self.created.addingTimeInterval(500)),
            PlannedTimer(kind: .reminder, seq: 1, dueAt: Self.created.addingTimeInterval(900)),
            PlannedTimer(kind: .escalation, seq: 0, dueAt: Self.created.addingTimeInterval(300)),
        ])
        #expect(Self.described(Self.plan(.reminder, rules, approval: Self.approval(votes: ["rita"]))) == ["sam email"])
        #expect(Self.described(Self.plan(.escalation, rules, approval: Self.approval(votes: ["sam"]))) == ["sec email", "sec slack"])
        // An escalation after the deadline is never set.
        #expect(Self.plan(.requested, rules, approval: Self.approval(lifetime: 200)).timers.map(\.kind) == [.reminder, .reminder])
    }

    @Test func aDecidedApprovalNeedsNobodyButItsSlackMessagesAreUpdated() {
        #expect(Self.plan(.requested, approval: Self.approval(status: .approved)) == NoticePlan())
        #expect(Self.plan(.reminder, approval: Self.approval(status: .expired)) == NoticePlan())
        let context = NoticeContext(
            kind: .decided, approval: Self.approval(status: .rejected), submitters: [], rules: NotificationRules(), directory: Self.directory,
            slackMessaged: [("rita", "URITA1")], slackConfigured: true)
        #expect(Self.described(NoticePlanner.plan(context)) == ["rita slack"])
    }

    @Test func rulesAreCheckedFieldByField() {
        func fields(_ json: String, timeout: Int = 600) -> [String] {
            switch NotificationRules.parse(try! JSONValue(parsing: json), timeoutSeconds: timeout) {
            case .success: return []
            case .failure(let failure): return failure.errors.map(\.field).sorted()
            }
        }
        #expect(fields(#"{}"#) == [])
        #expect(fields(#"{"groups":["finance"],"channels":["slack","email"],"remind_at":[0.5,0.9],"escalate_to":"security","escalate_after_seconds":60,"decision_links":false}"#) == [])
        #expect(fields(#"{"groups":["Finance"],"channels":[],"remind_at":[0.9,0.5],"decision_links":"no","x":1}"#) == [
            "notifications.channels", "notifications.decision_links", "notifications.groups", "notifications.remind_at", "notifications.x",
        ])
        #expect(fields(#"{"remind_at":[0,1]}"#) == ["notifications.remind_at"])
        #expect(fields(#"{"escalate_to":"security"}"#) == ["notifications.escalate_after_seconds"])
        #expect(fields(#"{"escalate_to":"security","escalate_after_seconds":600}"#, timeout: 600) == ["notifications.escalate_after_seconds"])
        let rules = try! NotificationRules.parse(try! JSONValue(parsing: #"{"channels":["email"],"remind_at":[0.5]}"#), timeoutSeconds: 60).get()
        #expect(rules.json == ["channels": ["email"], "remind_at": [.number(0.5)]])
        #expect(NotificationRules.stored(["groups": 5]) == NotificationRules(decisionLinks: false))
    }

    @Test func approverRulesChooseWhoIsToldAndADelegateHearsInsteadForTheirPeriod() {
        var gated = Self.approval()
        gated.approverRules = [ApproverRule(group: "security", count: 2)]
        // Only security decides (the rules fill the quorum): only security is told.
        #expect(Self.described(Self.plan(.requested, approval: gated)) == ["sam email", "sec email", "sec slack"])
        // A free slot: everyone may decide, so everyone is told.
        gated.approverRules = [ApproverRule(group: "security", count: 1)]
        #expect(Self.described(Self.plan(.requested, approval: gated)).count == 5)

        let now = Self.created.addingTimeInterval(10)
        var directory = Self.directory
        directory[3].delegation = Delegation(delegate: "rita", from: Self.created, until: Self.created.addingTimeInterval(60))
        // Sam delegates to Bob, the submitter: Bob is never asked; Sam still is.
        directory[1].delegation = Delegation(delegate: "bob", from: Self.created, until: Self.created.addingTimeInterval(60))
        func plan(at time: Date) -> [String] {
            Self.described(
                NoticePlanner.plan(
                    NoticeContext(
                        kind: .requested, approval: Self.approval(), submitters: ["bob"], rules: NotificationRules(groups: ["security"]),
                        directory: directory, slackConfigured: true, now: time)))
        }
        #expect(plan(at: now) == ["rita email", "rita slack", "sam email"])
        // Before and after the period, Sec is told herself.
        #expect(plan(at: Self.created.addingTimeInterval(60)) == ["sam email", "sec email", "sec slack"])
    }
}
