import Testing

@testable import SLAWatchCore

/// Instance identities and the table that grows in one place.
@Suite struct InstanceTableTests {
    @Test(arguments: [
        ("latency", InstanceKey(objective: "latency")),
        ("latency{customer=acme}", InstanceKey(objective: "latency", group: [.init("customer", "acme")])),
        (
            "latency{customer=acme,region=}",
            InstanceKey(objective: "latency", group: [.init("customer", "acme"), .init("region", "")])
        ),
        ("latency{customer=a=b}", InstanceKey(objective: "latency", group: [.init("customer", "a=b")])),
        ("availability/burn:1h", InstanceKey(objective: "availability", burnWindow: 3600)),
        ("availability/burn:5m", InstanceKey(objective: "availability", burnWindow: 300)),
        (
            "availability{customer=acme}/burn:1h",
            InstanceKey(objective: "availability", group: [.init("customer", "acme")], burnWindow: 3600)
        ),
        (
            "availability{path=/burn:1h}/burn:5m",
            InstanceKey(objective: "availability", group: [.init("path", "/burn:1h")], burnWindow: 300)
        ),
    ])
    func storageNamesRoundTrip(_ name: String, _ key: InstanceKey) throws {
        #expect(InstanceKey(storageName: name) == key)
        #expect(key.storageName == name)
    }

    @Test func oddNamesReadAsPlainOrNothing() {
        #expect(InstanceKey(storageName: "") == nil)
        #expect(InstanceKey(storageName: "x{novalue}") == nil)
        #expect(InstanceKey(storageName: "x/burn:soon") == InstanceKey(objective: "x/burn:soon"))
        #expect(InstanceKey(storageName: "{a=b}") == InstanceKey(objective: "{a=b}"))
    }

    static func objective(_ name: String, sli: SLIKind = .count, match: [String: String] = [:]) -> Objective {
        Objective(
            name: name,
            sla: SLA(name: "s", provider: "p", customer: "c"),
            metric: "m",
            match: match,
            sli: sli,
            window: .rolling(seconds: 300),
            direction: .atMost,
            baseline: Baseline(value: sli == .ratio ? 0.99 : 1, kind: .fixed, source: "1")
        )
    }

    @Test func rolesKeysAndMembers() {
        var grouped = Self.objective("latency")
        grouped.groupBy = ["customer"]
        grouped.maxInstances = 1
        var ratio = Self.objective("availability", sli: .ratio)
        ratio.good = GoodSelector(metric: "m", match: ["status": "!~5.."])
        ratio.burnRateAlerts = [BurnRateRule(factor: 14.4, long: 3600, short: 300)]
        var table = InstanceTable(configured: [Self.objective("plain"), grouped, ratio])
        #expect(table.count == 5)
        #expect(table.judged == [0, 2])
        #expect(table.groupParents == [1])
        #expect(table[3].role == .burnWindow(of: 2, seconds: 300))
        #expect(table[4].key.storageName == "availability/burn:1h")
        #expect(table.burnWindows[2] == [300: 3, 3600: 4])
        let acme = table.member(of: 1, ["customer": "acme"])
        #expect(acme?.id == 5 && acme?.isNew == true)
        let again = table.member(of: 1, ["customer": "acme"])
        #expect(again?.id == 5 && again?.isNew == false)
        let refused = table.member(of: 1, ["customer": "globex"])  // max_instances 1
        #expect(refused == nil)
        #expect(table[5].role == .member(of: 1))
        #expect(table.id(named: "latency{customer=acme}") == 5)
        #expect(table.judged == [0, 2, 5])
        #expect(table.windows.count == 6 && table.states.count == 6 && table.dirtyFlags.count == 6)
    }

    /// A selector that does not parse matches nothing (the config loader refuses it first).
    @Test func aBadMatcherMatchesNothing() {
        let table = InstanceTable(configured: [Self.objective("bad", match: ["status": "=~(unclosed"])])
        #expect(table[0].matchers == [LabelMatcher.nothing])
        #expect(!LabelMatcher.all(table[0].matchers, ["status": "500"]))
        #expect(!LabelMatcher.all(table[0].matchers, [:]))
    }
}
