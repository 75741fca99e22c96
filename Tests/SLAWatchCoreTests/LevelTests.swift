import Foundation
import Testing

@testable import SLAWatchCore

/// SLA levels: a corporate level's objectives apply to every customer, a customer level may
/// tighten them, never loosen; while a corporate objective is breached the inherited breach
/// entries are inhibited and counted.
@Suite struct LevelTests {
    static let corporate = """
        slas:
          - name: platform
            level: corporate
            provider: platform
            objectives:
              - name: availability
                metric: req
                sli: ratio
                good: {labels: {status: "!~5.."}}
                window: 10m
                direction: at_least
                baseline: 99.5%
        """

    static let customers = """
        slas:
          - name: acme
            level: customer
            provider: platform
            customer: acme
            objectives:
              - overrides: availability
                labels: {customer: acme}
                good: {labels: {status: "!~5..", customer: acme}}
                baseline: 99.9%
              - name: acme-exports
                metric: exports
                sli: count
                window: day
                direction: at_least
                baseline: 10
          - name: globex
            level: customer
            provider: platform
            customer: globex
            objectives: []
          - name: globex-reports
            level: service
            inherits: globex
            provider: platform
            customer: globex reporting
            objectives: []
        """

    /// The objectives of files written into a fresh directory (name → text).
    static func load(_ files: [String: String]) throws -> [Objective] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("levels-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return try ObjectivesConfig.load(directory: dir)
    }

    /// The errors of loading `files`, with the directory's path cut from each file name.
    static func errors(_ files: [String: String]) -> [String] {
        do {
            _ = try load(files)
            return []
        } catch let e as ConfigErrors {
            return e.errors.map {
                "\(($0.file as NSString).lastPathComponent):\($0.line): \($0.key): \($0.message)"
                    .replacingOccurrences(of: ($0.file as NSString).deletingLastPathComponent + "/", with: "")
            }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aCustomerInheritsTheCorporateObjectivesAcrossFiles() throws {
        let all = try Self.load(["10-corporate.yaml": Self.corporate, "20-customers.yaml": Self.customers])
        #expect(
            all.map(\.name) == [
                "availability", "acme-exports", "acme/availability", "globex/availability",
                "globex-reports/availability",
            ]
        )
        let acme = try #require(all.first { $0.name == "acme/availability" })
        #expect(acme.baseline.value == 0.999)
        #expect(acme.match == ["customer": "acme"])
        #expect(acme.window == .rolling(seconds: 600))  // the corporate level's, not restated
        #expect(acme.sla.customer == "acme")
        #expect(acme.sla.level == .customer)
        #expect(acme.sla.parents == ["platform"])
        #expect(acme.ancestors == ["availability"])
        let globex = try #require(all.first { $0.name == "globex/availability" })
        #expect(globex.baseline.value == 0.995)
        #expect(globex.sla.customer == "globex")
        let service = try #require(all.first { $0.name == "globex-reports/availability" })
        #expect(service.ancestors == ["globex/availability", "availability"])
        #expect(all.first { $0.name == "availability" }?.sla.customer == "every customer")
    }

    @Test func looseningIsAnErrorNamingBothFilesAndLines() {
        let loose = Self.customers.replacingOccurrences(of: "baseline: 99.9%", with: "baseline: 99%")
        #expect(
            Self.errors(["10-corporate.yaml": Self.corporate, "20-customers.yaml": loose]) == [
                "20-customers.yaml:10: slas[0].objectives[0].baseline: loosens availability: 99 % is below the corporate level's 99.5 % (10-corporate.yaml:12); a lower level may only tighten a baseline"
            ]
        )
        // Per-customer baselines are checked one by one.
        let split = Self.customers.replacingOccurrences(
            of: "baseline: 99.9%",
            with: "group_by: [region]\n        baselines: {region: {eu: 99.95%, us: 99.4%, default: 99.9%}}"
        )
        #expect(
            Self.errors(["10-corporate.yaml": Self.corporate, "20-customers.yaml": split]) == [
                "20-customers.yaml:11: slas[0].objectives[0].baselines: loosens availability for region=us: 99.4 % is below the corporate level's 99.5 % (10-corporate.yaml:12); a lower level may only tighten a baseline"
            ]
        )
    }

    @Test(arguments: [
        (
            "level: global", "level",
            "'global' is not a level (corporate, customer or service)"
        ),
        ("level: service", "inherits", "a service level sits below a customer's SLA: name it with inherits: SLA"),
        ("level: customer\n    inherits: acme2", "inherits", "no SLA is named 'acme2'; did you mean acme?"),
        (
            "level: customer\n    inherits: acme", "inherits",
            "'acme' is a customer-level SLA; a customer level inherits from a corporate level"
        ),
    ])
    func levelMistakesAreNamed(_ header: String, _ key: String, _ message: String) {
        let text = """
            slas:
              - name: other
                \(header)
                provider: platform
                customer: other
                objectives: []
            """
        let errors = Self.errors([
            "10-corporate.yaml": Self.corporate, "20-customers.yaml": Self.customers, "30-other.yaml": text,
        ])
        #expect(errors.count == 1)
        #expect(errors.first?.contains("slas[0].\(key): \(message)") == true, "\(errors)")
    }

    @Test func anOverrideMustNameAnInheritedObjective() {
        let text = Self.customers.replacingOccurrences(of: "overrides: availability", with: "overrides: availabilty")
        let errors = Self.errors(["10-corporate.yaml": Self.corporate, "20-customers.yaml": text])
        #expect(
            errors == [
                "20-customers.yaml:7: slas[0].objectives[0].overrides: 'availabilty' is not an objective this SLA inherits (inherited from platform); did you mean availability?"
            ]
        )
    }

    /// 1,000 requests a minute from each customer; `bad` maps a customer to its failed requests
    /// that minute. Returns the entries written, as `kind objective` lines.
    static func minute(_ e: inout Engine, _ m: Int, bad: [String: Int] = [:]) -> [String] {
        let t = 1_000_000 + Double(m) * 60
        var events: [Event] = []
        for c in ["acme", "globex"] {
            let b = bad[c] ?? 0
            events.append(
                Event(
                    metric: "req",
                    value: Double(1000 - b),
                    kind: .counter,
                    labels: ["status": "200", "customer": c],
                    time: t
                )
            )
            if b > 0 {
                events.append(
                    Event(
                        metric: "req",
                        value: Double(b),
                        kind: .counter,
                        labels: ["status": "503", "customer": c],
                        time: t
                    )
                )
            }
        }
        _ = e.ingest(events, now: t)
        return e.evaluate(at: t + 30).filter { $0.kind != .pending }.map { "\($0.kind.rawValue) \($0.objective)" }
    }

    @Test func aCorporateBreachInhibitsTheInheritedBreachesAndCountsThem() throws {
        let all = try Self.load(["10-corporate.yaml": Self.corporate, "20-customers.yaml": Self.customers])
        var e = Engine(objectives: all)
        var written: [Int: [String]] = [:]
        for m in 0..<10 { written[m] = Self.minute(&e, m) }
        #expect(written.values.allSatisfy { $0.isEmpty })
        // Both customers fail entirely for a minute: every availability objective breaches,
        // and only the corporate one is written.
        #expect(Self.minute(&e, 10, bad: ["acme": 1000, "globex": 1000]) == ["breach availability"])
        let corporate = try #require(e.table.id(named: "availability"))
        #expect(e.table.states[corporate].inhibited == 3)  // acme, globex, globex-reports
        // Then acme alone fails 1 % of its requests: 10 of 2,000 a minute is 99.5 % overall
        // (met) but 99 % for acme (breached against 99.9 %).
        var after: [(Int, [String])] = []
        for m in 11..<40 {
            let x = Self.minute(&e, m, bad: m < 25 ? ["acme": 10] : [:])
            if !x.isEmpty { after.append((m, x)) }
        }
        // The outage minute leaves the 10m window at minute 20: the corporate objective
        // recovers, says it inhibited 3 entries, and acme's breach (still on) is written then;
        // globex's breach and recovery were never written. acme recovers once its 1 % minutes
        // have left its window.
        #expect(after.first?.0 == 20)
        #expect(
            after.first?.1 == [
                "recovery availability", "inhibition_ended availability", "breach acme/availability",
            ]
        )
        #expect(after.dropFirst().map(\.1) == [["recovery acme/availability"]])
        #expect(after.last?.0 == 33)
        #expect(e.table.states[corporate].inhibited == nil)
    }

    @Test func theInhibitionEntrySaysWhatWasInhibited() throws {
        let all = try Self.load(["10-corporate.yaml": Self.corporate, "20-customers.yaml": Self.customers])
        var e = Engine(objectives: all)
        for m in 0..<10 { _ = Self.minute(&e, m) }
        _ = Self.minute(&e, 10, bad: ["acme": 1000, "globex": 1000])
        var ended: Transition?
        var released: Transition?
        for m in 11..<21 {
            let t = 1_000_000 + Double(m) * 60
            _ = e.ingest(
                [
                    Event(
                        metric: "req",
                        value: 990,
                        kind: .counter,
                        labels: ["status": "200", "customer": "acme"],
                        time: t
                    ),
                    Event(
                        metric: "req",
                        value: 10,
                        kind: .counter,
                        labels: ["status": "503", "customer": "acme"],
                        time: t
                    ),
                    Event(
                        metric: "req",
                        value: 1000,
                        kind: .counter,
                        labels: ["status": "200", "customer": "globex"],
                        time: t
                    ),
                ],
                now: t
            )
            for x in e.evaluate(at: t + 30) {
                if x.kind == .inhibitionEnded { ended = x }
                if x.kind == .breach { released = x }
            }
        }
        let end = try #require(ended)
        let f = Dictionary(
            AlertEntry.fields(end, try #require(e.objective(named: "availability"))),
            uniquingKeysWith: { a, _ in a }
        )
        #expect(f["MESSAGE_ID"] == MessageID.inhibitionEnded)
        #expect(f["SLAWATCH_INHIBITED"] == "3")
        #expect(f["SLAWATCH_STILL_BREACHED"] == "acme/availability")
        #expect(
            f["MESSAGE"]
                == "availability recovered: 3 entries of the SLA levels inheriting it were inhibited while it was breached; still breached: acme/availability (platform → every customer)"
        )
        let r = try #require(released)
        let g = Dictionary(
            AlertEntry.fields(r, try #require(e.objective(named: "acme/availability"))),
            uniquingKeysWith: { a, _ in a }
        )
        #expect(g["MESSAGE_ID"] == MessageID.breach)
        #expect(g["SLAWATCH_INHIBITED_BY"] == "availability")
        #expect(g["SLAWATCH_BREACHED_SINCE"] == RFC3339.format(1_000_000 + 10 * 60 + 30))
        #expect(g["MESSAGE"]?.hasPrefix("acme/availability breached (since ") == true)
    }

    @Test func inhibitionSurvivesARestart() throws {
        let all = try Self.load(["10-corporate.yaml": Self.corporate, "20-customers.yaml": Self.customers])
        var a = Engine(objectives: all)
        for m in 0..<10 { _ = Self.minute(&a, m) }
        _ = Self.minute(&a, 10, bad: ["acme": 1000, "globex": 1000])
        var b = Engine(objectives: all)
        b.restore(a.allSnapshots())
        var after: [String] = []
        for m in 11..<21 { after += Self.minute(&b, m) }
        // Every customer is fine after the outage: the inherited recoveries of episodes never
        // written are not written either.
        #expect(after == ["recovery availability", "inhibition_ended availability"])
    }

    /// Three levels: the service's breach, held while its customer was breached (its count on
    /// the corporate objective), is written when the customer recovers.
    @Test func aServiceBreachIsWrittenWhenItsCustomerRecovers() throws {
        let corporate = Self.corporate.replacingOccurrences(of: "baseline: 99.5%", with: "baseline: 99%")
        let customers = """
            slas:
              - {name: acme, level: customer, provider: platform, customer: acme,
                 objectives: [{overrides: availability, baseline: 99.5%}]}
              - {name: acme-rep, level: service, inherits: acme, provider: platform, customer: reporting,
                 objectives: [{overrides: acme/availability, baseline: 99.9%}]}
            """
        var e = Engine(objectives: try Self.load(["10.yaml": corporate, "20.yaml": customers]))
        var out: [(Int, [String])] = []
        for m in 0..<30 {
            // A minute of outage, nine at 99.2 %, nine at 99.7 %, then all good.
            let bad = m == 1 ? 1000 : (2..<11).contains(m) ? 8 : (11..<20).contains(m) ? 3 : 0
            let x = Self.minute(&e, m, bad: ["acme": bad, "globex": bad])
            if !x.isEmpty { out.append((m, x)) }
        }
        #expect(out.map(\.0) == [1, 11, 16, 26], "\(out)")
        #expect(out[0].1 == ["breach availability"])
        // The outage leaves the 10m window: the corporate level recovers; acme (99.2 % < 99.5 %)
        // is still breached and written; the service stays held (acme is breached).
        #expect(out[1].1 == ["recovery availability", "inhibition_ended availability", "breach acme/availability"])
        // acme recovers (its window at 99.5 %): the service, still below 99.9 %, is written now.
        #expect(out[2].1 == ["recovery acme/availability", "breach acme-rep/availability"])
        #expect(out[3].1 == ["recovery acme-rep/availability"])
    }

    /// Versions of a corporate objective reach its inheritors, each checked never to loosen.
    @Test func inheritorsFollowTheCorporateVersions() throws {
        let corporate =
            Self.corporate
                + """

                      - name: availability
                        effective_from: 2027-01-01
                        metric: req
                        sli: ratio
                        good: {labels: {status: "!~5.."}}
                        window: 10m
                        direction: at_least
                        baseline: 99.9%
                """
        let acme = """
            slas:
              - name: acme
                level: customer
                provider: platform
                customer: acme
                objectives:
                  - {overrides: availability, baseline: 99.7%}
            """
        #expect(
            Self.errors(["10.yaml": corporate, "20.yaml": acme]) == [
                "20.yaml:7: slas[0].objectives[0].baseline: loosens availability: 99.7 % is below the corporate level's 99.9 % (10.yaml:20); a lower level may only tighten a baseline"
            ]
        )
        let dated = acme + "\n      - {overrides: availability, effective_from: 2027-01-01, baseline: 99.95%}"
        let all = try Self.load(["10.yaml": corporate, "20.yaml": dated])
        let versions = all.filter { $0.name == "acme/availability" }
        #expect(versions.map(\.baseline.value) == [0.997, 0.9995])
        #expect(versions.map(\.effectiveFrom) == [nil, RFC3339.parse("2027-01-01T00:00:00Z")])
        // A copy follows both.
        let globex = "slas:\n  - {name: globex, level: customer, provider: platform, customer: globex, objectives: []}"
        let copies = try Self.load(["10.yaml": corporate, "20.yaml": globex]).filter {
            $0.name == "globex/availability"
        }
        #expect(copies.map(\.baseline.value) == [0.995, 0.999])
    }

    @Test(arguments: [
        // Loosening acme's per-customer 99.95 % by a plain baseline, by other per-customer
        // values, and by dropping the split.
        ("baseline: 99.6%", "loosens availability for customer=acme: 99.6 % is below"),
        (
            "baselines: {customer: {globex: 99.9%, default: 99.6%}}",
            "loosens availability for customer=acme: 99.6 % is below"
        ),
        ("group_by: []\n        baseline: 99.6%", "loosens availability for customer=acme: 99.6 % is below"),
    ])
    func perCustomerTermsCannotBeLoosened(_ keys: String, _ message: String) {
        let corporate = Self.corporate.replacingOccurrences(
            of: "baseline: 99.5%",
            with: "group_by: [customer]\n        baselines: {customer: {acme: 99.95%, default: 99.5%}}"
        )
        let acme = """
            slas:
              - name: acme
                level: customer
                provider: platform
                customer: acme
                objectives:
                  - overrides: availability
                    \(keys)
            """
        let errors = Self.errors(["10.yaml": corporate, "20.yaml": acme])
        #expect(errors.count == 1)
        #expect(errors.first?.contains(message) == true, "\(errors)")
    }

    @Test func theNearestLevelIsInheritedAndTwoOfOneLevelConflict() throws {
        let customers = """
            slas:
              - {name: acme, level: customer, provider: platform, customer: acme,
                 objectives: [{overrides: availability, baseline: 99.9%}]}
              - {name: globex, level: customer, provider: platform, customer: globex,
                 objectives: [{overrides: availability, baseline: 99.99%}]}
              - {name: rep, level: service, inherits: [platform, acme], provider: platform, customer: r,
                 objectives: [{overrides: availability, baseline: 99.7%}]}
            """
        // The service inherits acme's 99.9 % (not the corporate 99.5 %), so 99.7 % loosens it.
        let errors = Self.errors(["10.yaml": Self.corporate, "20.yaml": customers])
        #expect(errors.count == 1)
        #expect(
            errors.first?.contains("loosens acme/availability: 99.7 % is below the customer level's 99.9 % (20.yaml:3)")
                == true,
            "\(errors)"
        )
        let both = customers.replacingOccurrences(of: "inherits: [platform, acme]", with: "inherits: [acme, globex]")
            .replacingOccurrences(of: "baseline: 99.7%", with: "baseline: 99.999%")
        #expect(
            Self.errors(["10.yaml": Self.corporate, "20.yaml": both]).contains {
                $0.contains("availability is inherited from both acme and globex")
            }
        )
    }

    @Test func namesThatWouldCollideAreRefused() {
        let own = Self.customers.replacingOccurrences(of: "name: acme-exports", with: "name: acme/availability")
        #expect(
            Self.errors(["10.yaml": Self.corporate, "20.yaml": own]).contains {
                $0.contains(
                    "'acme/availability' is the objective this SLA inherits; change it with overrides: availability"
                )
            }
        )
        let renamed = Self.customers.replacingOccurrences(
            of: "overrides: availability",
            with: "overrides: availability\n        name: availability"
        )
        #expect(
            Self.errors(["10.yaml": Self.corporate, "20.yaml": renamed]).contains {
                $0.contains("an override cannot take the name of what it overrides")
            }
        )
        let braces = Self.corporate.replacingOccurrences(
            of: "name: availability",
            with: "name: \"availability{customer=acme}\""
        )
        #expect(Self.errors(["10.yaml": braces]).first?.contains("must not contain '{'") == true)
    }

    /// An error in a key the override does not write names the file that writes it.
    @Test func anInheritedKeyIsBlamedWhereItIsWritten() {
        let acme = """
            slas:
              - name: acme
                level: customer
                provider: platform
                customer: acme
                objectives:
                  - {overrides: availability, sli: avg, good: null}
            """
        let errors = Self.errors(["10.yaml": Self.corporate, "20.yaml": acme])
        #expect(
            errors.contains {
                $0.hasPrefix("10.yaml:12: slas[0].objectives[0].baseline: ") && $0.contains("inherited by acme")
            },
            "\(errors)"
        )
    }
}
