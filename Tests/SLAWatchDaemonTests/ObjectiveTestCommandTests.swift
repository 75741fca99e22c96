import Foundation
import SLAWatchTestSupport
import Testing

/// `slawatch test`: objective unit tests from YAML, with a diff on failure.
@Suite struct ObjectiveTestCommandTests {
    @Test func theShippedExamplesPass() throws {
        let file = packageRoot.appendingPathComponent("config/examples/tests/api.test.yaml").path
        let (rc, out, err) = try slawatch(["test", file])
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("2 of 2 test(s) passed"))
    }

    /// The SLA-truth corners through `slawatch test`: hysteresis on a window that empties, data
    /// back inside an open episode, an "at most" ratio, more good than total, a young window
    /// (issue 13).
    @Test func theSLATruthCornersPass() throws {
        let file = packageRoot.appendingPathComponent("config/examples/sla-truth/sla-truth.test.yaml").path
        let (rc, out, err) = try slawatch(["test", file])
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("5 of 5 test(s) passed"))
    }

    /// The contract examples (issue 15): a threshold SLI (99 % of checkouts at most 300 ms) and
    /// availability in good minutes (time slices).
    @Test func theContractExamplesPass() throws {
        let file = packageRoot.appendingPathComponent("config/examples/contract/contract.test.yaml").path
        let (rc, out, err) = try slawatch(["test", file])
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("3 of 3 test(s) passed"))
    }

    /// The levels example (issue 15): corporate → customer → service inheritance across two
    /// files, with a corporate breach inhibiting the inherited ones.
    @Test func theLevelsExamplePasses() throws {
        let file = packageRoot.appendingPathComponent("config/examples/levels/levels.test.yaml").path
        let (rc, out, err) = try slawatch(["test", file])
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("1 of 1 test(s) passed"))
        let dir = packageRoot.appendingPathComponent("config/examples/levels/objectives.d").path
        let (checkRC, checkOut, _) = try slawatch(["check", "--objectives", dir])
        #expect(checkRC == 0)
        #expect(
            checkOut.contains(
                "  acme/availability: ratio of api.requests over 5m, at least 99.9 % (inherits availability)"
            )
        )
        #expect(
            checkOut.contains(
                "  globex-reporting/availability: ratio of api.requests over 5m, at least 99.5 % (inherits globex/availability)"
            )
        )
    }

    @Test func aWrongExpectationFailsWithADiffAndABadFileNamesItsLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-test-\(runID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        slas:
          - name: s
            provider: p
            customer: c
            objectives:
              - {name: errors, metric: errors, sli: count, window: 5m, direction: at_most, baseline: 2, nodata: ok}
        """.write(to: dir.appendingPathComponent("o.yaml"), atomically: true, encoding: .utf8)
        let test = dir.appendingPathComponent("t.yaml")
        try """
        objectives: o.yaml
        tests:
          - name: three errors breach at once
            step: 1m
            input:
              - {at: 1m, lines: ["errors:3|c"]}
            expect:
              - {at: 2m, objective: errors, transition: breach, value: 3}
        """.write(to: test, atomically: true, encoding: .utf8)
        let (rc, out, _) = try slawatch(["test", test.path])
        #expect(rc == 1)
        #expect(out.contains("FAIL"))
        #expect(out.contains("- 2m errors breach value=3"))
        #expect(out.contains("+ 1m errors breach value=3"))
        #expect(out.contains("0 of 1 test(s) passed"))
        try """
        objectives: o.yaml
        tests:
          - name: typo
            expect:
              - {at: 1m, objective: errors, transition: breached}
        """.write(to: test, atomically: true, encoding: .utf8)
        let (rc2, _, err2) = try slawatch(["test", test.path])
        #expect(rc2 == 2)
        #expect(err2.contains("t.yaml:5: tests[0].expect[0].transition"))
    }
}
