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
}
