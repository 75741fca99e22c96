import ArgumentParser
import Foundation
import SLAWatchCore

/// `slawatch test`: objective unit tests (`ObjectiveTests`), like `promtool test rules`.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run objective unit tests: input events, evaluations, the exact entries expected.",
        discussion: """
            Each FILE names its objectives and lists test cases: input lines (statsd or JSON) at \
            offsets from a start time, an evaluation step, and the entries expected in order \
            (offset, objective, transition, optionally the value). Prints ok or FAIL per case, with \
            '- expected' and '+ actual' lines for a failure. Exits 1 when a case fails, 2 when a \
            file cannot be read (errors name file, line and key). Format: docs/objectives.md.
            """
    )

    @Argument(help: "Test files (YAML).")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one test file") }
    }

    func run() throws {
        var failed = 0
        var total = 0
        for path in files {
            let suite: ObjectiveTests.Suite
            do {
                suite = try ObjectiveTests.load(path: path)
            } catch {
                printError("slawatch test: \(error)")
                throw ExitCode(2)
            }
            for result in ObjectiveTests.run(suite) {
                total += 1
                if result.passed {
                    print("ok    \(path): \(result.name)")
                } else {
                    failed += 1
                    print("FAIL  \(path): \(result.name)")
                    for line in result.diff { print("        \(line)") }
                }
            }
        }
        print("\(total - failed) of \(total) test(s) passed")
        if failed > 0 { throw ExitCode(1) }
    }
}
