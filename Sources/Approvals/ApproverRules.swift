/// "`count` of `group`": a policy's rule naming who must approve (issue 27), such as
/// two of `finance`, or one of `finance` and one of `security`.
public struct ApproverRule: Sendable, Equatable, Hashable {
    public var group: String
    public var count: Int

    public init(group: String, count: Int) {
        self.group = group
        self.count = count
    }
}

/// Whose approval a vote can be: the voter's own (with the groups the directory gave
/// them when they voted), or that of a person who delegated to them for the moment
/// (with that person's groups). One vote counts as at most one of them.
public struct Standing: Sendable, Equatable, Hashable {
    public var person: String
    public var groups: Set<String>
    /// True when `person` delegated to the voter (the voter is someone else).
    public var delegated: Bool

    public init(person: String, groups: Set<String>, delegated: Bool = false) {
        self.person = person
        self.groups = groups
        self.delegated = delegated
    }
}

/// Whether approvals meet a quorum with group rules: every rule's slots filled, and the
/// quorum's remaining slots (if `requiredApprovals` exceeds the rules' sum) by anybody,
/// where each vote fills at most one slot as one of its standings and each person
/// counts once — so a delegate's vote and the delegator's own are never two of the
/// delegator, and one person in two groups is never two approvals.
///
/// It is a bipartite matching (votes → people → slots), solved as a maximum flow: a
/// quorum is at most 10 slots and an approval's votes a few dozen at worst.
public enum QuorumMatching {
    /// The approvals the rules ask for, all rules together.
    public static func ruleSlots(_ rules: [ApproverRule]) -> Int {
        rules.reduce(0) { $0 + $1.count }
    }

    /// The slots a quorum has: the rules' and `requiredApprovals`' excess as free slots.
    public static func quorum(requiredApprovals: Int, rules: [ApproverRule]) -> Int {
        max(requiredApprovals, ruleSlots(rules))
    }

    /// The slots anybody may fill: `requiredApprovals` beyond the rules' sum.
    public static func freeSlots(requiredApprovals: Int, rules: [ApproverRule]) -> Int {
        quorum(requiredApprovals: requiredApprovals, rules: rules) - ruleSlots(rules)
    }

    /// Whether a vote with these standings could fill any slot at all.
    public static func canCount(_ standings: [Standing], requiredApprovals: Int, rules: [ApproverRule]) -> Bool {
        if freeSlots(requiredApprovals: requiredApprovals, rules: rules) > 0 { return true }
        return standings.contains { standing in rules.contains { standing.groups.contains($0.group) } }
    }

    /// How many slots the approving votes (each a list of standings) fill at most.
    public static func filled(_ votes: [[Standing]], requiredApprovals: Int, rules: [ApproverRule]) -> Int {
        let free = freeSlots(requiredApprovals: requiredApprovals, rules: rules)
        let people = Array(Set(votes.flatMap { $0.map(\.person) })).sorted()
        let personIndex = Dictionary(uniqueKeysWithValues: people.enumerated().map { ($1, $0) })
        // Nodes: source, votes, people in, people out, rule slots, free slots, sink.
        let source = 0
        let voteBase = 1
        let personIn = voteBase + votes.count
        let personOut = personIn + people.count
        let ruleBase = personOut + people.count
        let freeNode = ruleBase + rules.count
        let sink = freeNode + 1
        var graph = FlowGraph(nodes: sink + 1)
        var groupsOf: [String: Set<String>] = [:]
        for (v, standings) in votes.enumerated() {
            graph.add(source, voteBase + v, 1)
            for standing in standings {
                let p = personIndex[standing.person]!
                graph.add(voteBase + v, personIn + p, 1)
                groupsOf[standing.person, default: []].formUnion(standing.groups)
            }
        }
        for (p, person) in people.enumerated() {
            graph.add(personIn + p, personOut + p, 1)
            for (r, rule) in rules.enumerated() where groupsOf[person, default: []].contains(rule.group) {
                graph.add(personOut + p, ruleBase + r, 1)
            }
            if free > 0 { graph.add(personOut + p, freeNode, 1) }
        }
        for (r, rule) in rules.enumerated() { graph.add(ruleBase + r, sink, rule.count) }
        if free > 0 { graph.add(freeNode, sink, free) }
        return graph.maxFlow(from: source, to: sink)
    }
}

/// A small flow network, solved by augmenting paths (depth-first); capacities are tiny.
struct FlowGraph {
    private var to: [Int] = []
    private var capacity: [Int] = []
    private var edges: [[Int]]

    init(nodes: Int) {
        edges = Array(repeating: [], count: nodes)
    }

    mutating func add(_ from: Int, _ target: Int, _ amount: Int) {
        edges[from].append(to.count)
        to.append(target)
        capacity.append(amount)
        edges[target].append(to.count)
        to.append(from)
        capacity.append(0)
    }

    mutating func maxFlow(from source: Int, to sink: Int) -> Int {
        var total = 0
        while true {
            var seen = Array(repeating: false, count: edges.count)
            let pushed = augment(source, sink, Int.max, &seen)
            if pushed == 0 { return total }
            total += pushed
        }
    }

    private mutating func augment(_ node: Int, _ sink: Int, _ limit: Int, _ seen: inout [Bool]) -> Int {
        if node == sink { return limit }
        seen[node] = true
        for edge in edges[node] where capacity[edge] > 0 && !seen[to[edge]] {
            let pushed = augment(to[edge], sink, min(limit, capacity[edge]), &seen)
            if pushed > 0 {
                capacity[edge] -= pushed
                capacity[edge ^ 1] += pushed
                return pushed
            }
        }
        return 0
    }
}
