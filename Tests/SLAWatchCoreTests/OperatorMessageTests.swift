import Foundation
import Testing

@testable import SLAWatchCore

/// What an operator reads when something is off: OS reasons for files, suggestions for typos,
/// errors at the line that holds the mistake, reasons in the terms of the input's grammar, and
/// times typed the way people type them.
@Suite struct OperatorMessageTests {
    // MARK: Files

    @Test func aMissingConfigFileGivesTheOSReasonAndNoLineZero() {
        do throws(ConfigErrors) {
            _ = try DaemonConfig.load(path: "/nonexistent/slawatch.yaml")
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.description == "/nonexistent/slawatch.yaml: No such file or directory")
            #expect(!error.description.contains(":0:"))
        }
    }

    @Test func aDirectoryGivenAsAFileSaysSo() {
        #expect(throws: TextFile.ReadError(path: "/tmp", reason: "Is a directory")) { try TextFile.read("/tmp") }
    }

    @Test func aFileThatIsNotUTF8NamesTheFirstBadByte() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latin1-\(UUID()).yaml").path
        try Data([0x61, 0x3A, 0x20, 0xC3, 0xA9, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TextFile.ReadError(path: path, reason: "not UTF-8 text (first invalid byte at offset 6)")) {
            try TextFile.read(path)
        }
    }

    @Test func aTestFileThatDoesNotExistSaysSo() {
        do throws(ConfigErrors) {
            _ = try ObjectiveTests.load(path: "nope.yaml")
            Issue.record("a missing test file loaded")
        } catch {
            #expect(error.description == "nope.yaml: No such file or directory")
        }
    }

    @Test func objectivesDirectoriesThatHoldNothingAreErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("objs-\(UUID())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        func message(_ dir: String) -> String? {
            do throws(ConfigErrors) {
                _ = try ObjectivesConfig.loadRequired(directory: dir)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(
            message(root.path + "/missing") == "\(root.path)/missing: objectives directory: No such file or directory"
        )
        #expect(message(root.path) == "\(root.path): objectives directory holds no objective files (*.yaml, *.yml)")
        try "slas: []\n".write(to: root.appendingPathComponent("empty.yaml"), atomically: true, encoding: .utf8)
        #expect(message(root.path) == "\(root.path): objectives directory holds no objective")
        // The daemon itself still runs without objectives (it says so in its log).
        #expect(try ObjectivesConfig.load(directory: root.path + "/missing").isEmpty)
    }

    // MARK: Typos

    @Test(arguments: [
        ("directon", "direction"), ("basline", "baseline"), ("windwo", "window"), ("timezone", "time_zone"),
        ("statsu", "status"), ("stat", "status"),
    ])
    func closestNameIsSuggested(_ typo: String, _ meant: String) {
        let names = ObjectivesConfig.objectiveKeys.union(["status", "push", "daemon", "alerts", "check", "replay"])
        #expect(Suggestion.closest(to: typo, among: names) == meant)
    }

    @Test func nothingIsSuggestedForAWordFarFromEveryName() {
        #expect(Suggestion.closest(to: "frobnicate", among: ObjectivesConfig.objectiveKeys) == nil)
    }

    @Test func anUnknownObjectiveKeySuggestsTheClosestAllowedOne() {
        let errors = objectiveErrors(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - name: o
                    metric: m
                    sli: count
                    window: 5m
                    directon: at_most
                    baseline: 3
            """
        )
        #expect(
            errors.map(\.description).contains(
                "o.yaml:10: slas[0].objectives[0].directon: unknown key; did you mean direction?"
            )
        )
    }

    @Test func anUnknownDaemonKeySuggestsTheClosestAllowedOne() {
        do throws(ConfigErrors) {
            _ = try DaemonConfig.parse("state_directroy: /tmp/x\n", file: "slawatch.yaml")
            Issue.record("a typo was accepted")
        } catch {
            #expect(error.description == "slawatch.yaml:1: state_directroy: unknown key; did you mean state_directory?")
        }
    }

    @Test func aBadReferenceNamesTheBaselinesOwnLineAndKeyPath() {
        let errors = objectiveErrors(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - name: deal-size
                    metric: deals
                    sli: avg
                    window: month
                    direction: at_least
                    baseline: 1000
                  - name: leads
                    metric: leads
                    sli: count
                    window: month
                    direction: at_least

                    baseline: ${deal-sise} / 10
            """
        )
        #expect(
            errors.map(\.description) == [
                "o.yaml:18: slas[0].objectives[1].baseline: '${deal-sise}' is not an objective; did you mean ${deal-size}?"
            ]
        )
    }

    // MARK: Input

    @Test func unknownTypeListsEveryTypeSetsIncluded() {
        let statsd = RejectReason.unknownType.explanation(in: .statsd)
        for t in ["c counter", "g gauge", "ms timer", "h histogram", "d distribution", "s set"] {
            #expect(statsd.contains(t), "\(statsd)")
        }
        let json = RejectReason.unknownType.explanation(in: .json)
        for k in ["counter", "cumulative", "gauge", "distribution", "histogram", "timer", "set"] {
            #expect(json.contains(k), "\(json)")
        }
    }

    @Test func jsonLinesAreExplainedInJSONTerms() {
        var b = LineBatcher(maxLineBytes: 1000)
        let lines = [
            #"{"metric":"a","value":1}"#, #"{"metric":"a","kind":"counter"}"#,
            #"{"metric":"a","value":"x","kind":"c"}"#,
            "a:1", #"{"metric":"a","value":1,"kind":"weird"}"#,
        ]
        lines.joined(separator: "\n").utf8CString.dropLast().map { UInt8(bitPattern: $0) }.withUnsafeBytes {
            b.feed($0)
        }
        b.finish()
        let r = b.take().rejections
        #expect(r.map(\.grammar) == [.json, .json, .json, .statsd, .json])
        #expect(
            r[0].explanation
                == #"no "kind" member (expected counter, cumulative, gauge, distribution, histogram, timer or set; or c, g, ms, h, d, s)"#
        )
        #expect(!r[0].explanation.contains("name:value|type"))
        #expect(r[1].explanation.hasPrefix(#"no "value" member"#))
        #expect(r[2].explanation.hasPrefix(#""value" is not a number"#))
        #expect(r[3].explanation == "no metric type (expected name:value|type)")
        #expect(r[4].explanation.hasPrefix("unknown kind (expected counter, cumulative"))
    }

    // MARK: Times typed on a command line

    @Test func sinceAndUntilAcceptWhatPeopleType() throws {
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let now = try #require(RFC3339.parse("2026-12-02T10:30:00Z"))  // 11:30 in Paris
        func t(_ s: String) -> Double? { TimeArgument.parse(s, now: now, timeZone: paris) }
        #expect(t("now") == now)
        #expect(t("today") == RFC3339.parse("2026-12-01T23:00:00Z"))
        #expect(t("yesterday") == RFC3339.parse("2026-11-30T23:00:00Z"))
        #expect(t("7d") == now - 7 * 86400)
        #expect(t("-12h") == now - 12 * 3600)
        #expect(t("1h30m") == now - 5400)
        #expect(t("2026-12-01") == RFC3339.parse("2026-11-30T23:00:00Z"))
        #expect(t("2026-12-01 14:30") == RFC3339.parse("2026-12-01T13:30:00Z"))
        #expect(t("2026-12-01T14:30:15") == RFC3339.parse("2026-12-01T13:30:15Z"))
        #expect(t("2026-12-01T14:30:00Z") == RFC3339.parse("2026-12-01T14:30:00Z"))
        #expect(t("2026-07-01") == RFC3339.parse("2026-06-30T22:00:00Z"))  // summer time
        for bad in ["", "7", "last week", "2026-13-01", "2026-12-01 25:00", "soon"] { #expect(t(bad) == nil, "\(bad)") }
    }

    // MARK: Numbers

    @Test func ratiosReadAsPercentagesInMessages() throws {
        #expect(AlertEntry.value(0.995, sli: .ratio) == "99.5 %")
        #expect(AlertEntry.value(0.99987, sli: .ratio) == "99.987 %")
        #expect(AlertEntry.value(1, sli: .ratio) == "100 %")
        #expect(AlertEntry.value(480, sli: .percentile(95), unit: "ms") == "480 ms")
        #expect(JSONNumber.rounded(0.1 + 0.2) == 0.3)
        #expect(JSONNumber.rounded(-3.999999999999999) == -4)
        #expect(JSONNumber.rounded(0.99987) == 0.99987)
        #expect(JSONNumber.rounded(123_456_789_012) == 123_456_789_012)
        #expect(RFC3339.formatMilliseconds(1_764_669_600.25) == "2025-12-02T10:00:00.250Z")
        #expect(RFC3339.formatMilliseconds(1_764_669_600) == "2025-12-02T10:00:00Z")
    }

    // MARK: From a breaking session

    @Test func jsonLinesSayWhichMemberHasTheWrongType() {
        #expect(
            JSONDiagnosis.explain(#"{"metric":"a","value":true,"kind":"c"}"#)
                == #""value" is a boolean, not a number (or, for kind set, a string)"#
        )
        #expect(JSONDiagnosis.explain(#"{"metric":5,"value":1,"kind":"c"}"#) == #""metric" is a number, not a string"#)
        #expect(JSONDiagnosis.explain(#"{"value":1,"kind":"c"}"#) == #"no "metric" member"#)
        #expect(
            JSONDiagnosis.explain(#"{"metric":"a","value":1,"kind":"c","labels":[1]}"#)
                == #""labels" is an array, not an object of strings"#
        )
        #expect(
            JSONDiagnosis.explain(#"{"metric":"a","value":1,"kind":"c","labels":{"x":{}}}"#)
                == #"label "x" is an object, not a string"#
        )
        #expect(
            JSONDiagnosis.explain(#"{"metric":"a","value":1,"kind":"c","time":true}"#)
                == #""time" is a boolean, not an RFC 3339 string or unix seconds"#
        )
        #expect(JSONDiagnosis.explain(#"{"metric":"a","value":1e400,"kind":"c"}"#)?.hasPrefix("not valid JSON") == true)
        #expect(
            JSONDiagnosis.explain(#"[{"metric":"a","value":1,"kind":"c"},{"metric":"b"},7]"#, element: 2)
                == #"an event is a JSON object {"metric": …, "value": …, "kind": …}, not a number"#
        )
        #expect(JSONDiagnosis.explain(#"{"metric":"a","value":1,"kind":"c"}"#) == nil)
        // Through the batcher, as sidecars and journal entries read it.
        var b = LineBatcher(maxLineBytes: 1000)
        b.feed(text: #"{"metric":"a","value":true,"kind":"c"}"# + "\n")
        b.finish()
        #expect(
            b.take().rejections.map(\.explanation) == [
                #""value" is a boolean, not a number (or, for kind set, a string)"#
            ]
        )
    }

    @Test func statsdTimestampsAreExplainedAsTheTField() {
        #expect(parseLine("a:1|c|T2026-12-02T04:00:00Z").0 == .rejected(.invalidTimestamp))
        #expect(
            RejectReason.invalidTimestamp.explanation(in: .statsd)
                == "the |T field is not whole unix seconds or milliseconds ≥ 0 (|T1764669600 or |T1764669600000)"
        )
    }

    @Test func referencesAreTrimmedEmptyOnesRefusedAndNeverSuggestThemselves() {
        func errors(_ baseline: String) -> [String] {
            objectiveErrors(
                """
                slas:
                  - name: s
                    provider: p
                    customer: c
                    objectives:
                      - {name: t, metric: m, sli: count, window: 5m, direction: at_most, baseline: 3}
                      - {name: zz, metric: m, sli: count, window: 5m, direction: at_most, baseline: "\(baseline)"}
                """
            ).map(\.description)
        }
        #expect(errors("${ t } * 2").isEmpty)
        #expect(
            errors("${zzz}") == [
                "o.yaml:7: slas[0].objectives[1].baseline: '${zzz}' is not an objective (a reference names an objective of any file)"
            ]
        )
        #expect(errors("${}").first?.contains("empty reference '${}'") == true)
        #expect(errors("${ }").first?.contains("empty reference '${}'") == true)
        #expect(
            errors("${tt}") == [
                "o.yaml:7: slas[0].objectives[1].baseline: '${tt}' is not an objective; did you mean ${t}?"
            ]
        )
    }

    @Test func aSuggestionIsNeverAKeyThatIsAlreadyThere() {
        let errors = objectiveErrors(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: o, metric: m, sli: count, window: 5m, direction: at_most, directon: at_most}
            """
        ).map(\.description)
        #expect(
            errors.contains("o.yaml:6: slas[0].objectives[0].directon: unknown key; did you mean baseline?") == false
        )
        #expect(errors.contains { $0.contains("directon: unknown key") && !$0.contains("did you mean direction") })
    }

    @Test func aDuplicateObjectiveNamesItsFullKeyPath() {
        let errors = objectiveErrors(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: t, metric: m, sli: count, window: 5m, direction: at_most, baseline: 3}
                  - {name: t, metric: m, sli: count, window: 5m, direction: at_most, baseline: 3}
            """
        ).map(\.description)
        #expect(errors == ["o.yaml:7: slas[0].objectives[1].name: objective 't' is already defined at o.yaml:6"])
    }

    @Test func anEmptyTestFileOrOneWithoutTestsSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func message(_ text: String) throws -> String {
            let path = dir.appendingPathComponent("t.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            do throws(ConfigErrors) {
                _ = try ObjectiveTests.load(path: path)
                return "loaded"
            } catch {
                return error.description.replacingOccurrences(of: dir.path + "/", with: "")
            }
        }
        #expect(try message("") == "t.yaml:1: the file is empty (expected objectives: and tests:)")
        #expect(try message("# nothing\n\n") == "t.yaml:1: the file is empty (expected objectives: and tests:)")
        try
            "slas:\n  - {name: s, provider: p, customer: c, objectives: [{name: o, metric: m, sli: count, window: 5m, direction: at_most, baseline: 1}]}\n"
            .write(to: dir.appendingPathComponent("o.yaml"), atomically: true, encoding: .utf8)
        #expect(
            try message("objectives: o.yaml\ntests: []\n")
                == "t.yaml:2: tests: no test case (a list of tests, each with input and expect)"
        )
        #expect(try message("objectives: ~\ntests: []\n").contains("t.yaml:1: objectives: has no value (null)"))
        let typo = try message(
            "objectives: o.yaml\ntests:\n  - name: x\n    input: []\n    expect:\n      - {at: 1m, objective: oo, transition: breech}\n"
        )
        #expect(
            typo.contains("tests[0].expect[0].transition: 'breech' is not a transition kind; did you mean breach?"),
            "\(typo)"
        )
        let unknown = try message(
            "objectives: o.yaml\ntests:\n  - name: x\n    input: []\n    expect:\n      - {at: 1m, objective: oo, transition: breach}\n"
        )
        #expect(
            unknown
                == "t.yaml:6: tests[0].expect[0].objective: 'oo' is not an objective of this file's objectives; did you mean o?"
        )
    }

    @Test func aFIFONamedYAMLInAnObjectivesDirectoryIsRefusedNotWaitedOn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(mkfifo(dir.appendingPathComponent("pipe.yaml").path, 0o644) == 0)
        do throws(ConfigErrors) {
            _ = try ObjectivesConfig.load(directory: dir.path)
            Issue.record("a FIFO loaded")
        } catch {
            #expect(error.description == "\(dir.path)/pipe.yaml: not a regular file (a FIFO, socket or device)")
        }
    }

    @Test func unseenMetricsAreSaidOncePerObjectiveWithTheirMatchers() throws {
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: s
                provider: p
                customer: c
                objectives:
                  - {name: avail, metric: api.requests, sli: ratio, good: {labels: {status: "=~2.."}}, window: 5m, direction: at_least, baseline: 0.99}
            """,
            file: "o.yaml"
        )
        let none = Replay.unseen(
            objectives: objectives,
            events: [Event(metric: "api.request", value: 1, kind: .counter)]
        )
        #expect(
            none.map(\.description) == [
                "objective avail: metric api.requests never appears in the input; 1 event(s) of api.request do: did you mean api.request?"
            ]
        )
        let bad = Replay.unseen(
            objectives: objectives,
            events: [Event(metric: "api.requests", value: 1, kind: .counter, labels: ["status": "500"])]
        )
        #expect(
            bad.map(\.description) == [
                "objective avail: 1 event(s) of api.requests in the input, but none with labels {status=~2..}"
            ]
        )
    }

    @Test func anExactlySpentBudgetIsZeroNotFloatNoise() throws {
        let e = try #require(Transition.errorBudget(total: 1000, good: 999, target: 0.999))
        #expect(e.budget == 1.0000000000000009 || e.budget == 1)
        #expect(e.remaining == 0)
        #expect(e.burnRate == 1)
    }

    @Test func aRatioBreachReadsInPercent() throws {
        let objectives = try ObjectivesConfig.parse(
            """
            slas:
              - name: api
                provider: platform
                customer: web
                objectives:
                  - {name: avail, metric: api.requests, sli: ratio, good: {labels: {status: "!~5.."}}, window: 5m, direction: at_least, baseline: 0.995, nodata: ok}
            """,
            file: "o.yaml"
        )
        var e = Engine(objectives: objectives)
        var events = (0..<97).map { _ in
            Event(metric: "api.requests", value: 1, kind: .counter, labels: ["status": "200"], time: 100)
        }
        events += (0..<3).map { _ in
            Event(metric: "api.requests", value: 1, kind: .counter, labels: ["status": "503"], time: 100)
        }
        _ = e.ingest(events, now: 100)
        let t = try #require(e.evaluate(at: 101).first { $0.kind == .breach })
        #expect(
            AlertEntry.message(t, objectives[0])
                == "avail breached: 97 % over the last 5m, baseline at least 99.5 % (platform → web)"
        )
        // The journal fields keep the numbers machines read.
        let fields = Dictionary(AlertEntry.fields(t, objectives[0]), uniquingKeysWith: { a, _ in a })
        #expect(fields["SLAWATCH_VALUE"] == "0.97")
        #expect(fields["SLAWATCH_BASELINE"] == "0.995")
    }
}
