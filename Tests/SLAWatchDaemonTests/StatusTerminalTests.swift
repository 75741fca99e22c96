import Foundation
import SLAWatchCore
import SLAWatchTestSupport
import Testing

/// `slawatch status` in a real terminal (tmux, 80 columns): colours and Unicode there, the
/// columns aligned, no line beyond 80; piped, plain ASCII without escape codes.
@Suite struct StatusTerminalTests {
    @Test func statusIsAlignedAndColouredInATerminalAndPlainInAPipe() throws {
        let tmux = try ExternalProgram.tmux.path()
        let id = runID()
        let daemon = try TestDaemon(
            objectivesYAML: """
                slas:
                  - name: checkout
                    provider: platform
                    customer: shop
                    objectives:
                      - {name: latency, metric: lat.\(id), sli: max, window: 1m, direction: at_most, baseline: 300, unit: ms, nodata: ok}
                      - {name: a-latency-objective-with-a-long-name, metric: lat2.\(id), sli: max, window: 1m, direction: at_most, baseline: 300, unit: ms, nodata: ok}
                  - name: leads-to-sales
                    provider: marketing
                    customer: sales
                    objectives:
                      - {name: qualified-leads, metric: leads.\(id), sli: count, window: month, direction: at_least, baseline: 100, unit: leads}
                """
        )
        try daemon.start()
        defer { _ = daemon.stop() }
        let (rc, _, err) = try daemon.push(["lat.\(id):450|ms", "lat2.\(id):120|ms", "leads.\(id):5|c"])
        #expect(rc == 0, "\(err)")
        Thread.sleep(forTimeInterval: 0.5)
        // The terminal: an 80 × 40 tmux pane of a server of this test's own.
        let server = "slawatch-test-\(id)"
        defer { _ = try? runExecutable(tmux, ["-L", server, "kill-server"]) }
        let command =
            "env -u NO_COLOR TERM=xterm-256color \(slawatchBinary) status --socket \(daemon.controlSocket); sleep 30"
        // The test process may run with signals blocked, which children inherit; the tmux
        // server needs SIGCHLD, so it starts from a parent that unblocks them. Its output goes
        // to /dev/null and no other descriptor is inherited: the server keeps what it inherits
        // open, and the pipes this call reads would not end before it does.
        let unblock = """
            import os, signal, sys
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2): os.dup2(null, fd)
            os.closerange(3, 65536)
            os.execv(sys.argv[1], sys.argv[1:])
            """
        let (trc, _, terr) = try runExecutable(
            try ExternalProgram.python3.path(),
            [
                "-c", unblock, tmux, "-L", server, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "40",
                try ExternalProgram.sh.path(), "-c", command,
            ],
            env: ProcessInfo.processInfo.environment.merging(["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"]) { _, n in n }
        )
        #expect(trc == 0, "\(terr)")
        var screen = ""
        var captureError = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let capture = try runExecutable(tmux, ["-L", server, "capture-pane", "-p", "-e", "-t", "0"])
            screen = capture.1
            captureError = capture.2
            if screen.contains("connections:") || screen.contains("drop files:") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(screen.contains("\u{1B}["), "no colour in the terminal:\n\(screen)\(captureError)")
        let plain = screen.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        let lines = plain.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.allSatisfy { $0.count <= 80 }, "\(plain)")
        #expect(plain.contains("checkout (platform → shop)"))
        #expect(plain.contains("≤ 300 ms"))
        #expect(plain.contains("  a-latency-objective-… 1m"))
        // Aligned: each row's window and state start under their headers.
        let header = try #require(lines.first { $0.hasPrefix("OBJECTIVE") })
        let windowColumn = try #require(header.range(of: "WINDOW")).lowerBound.utf16Offset(in: header)
        let stateColumn = try #require(header.range(of: "STATE")).lowerBound.utf16Offset(in: header)
        for name in ["  latency ", "  a-latency-objectiv", "  qualified-leads "] {
            let row = try #require(lines.first { $0.hasPrefix(name) }, "\(name) in\n\(plain)")
            let chars = Array(row)
            #expect(chars.count > stateColumn)
            #expect(chars[windowColumn - 1] == " " && chars[windowColumn] != " ", "\(row)")
            #expect(chars[stateColumn - 1] == " " && chars[stateColumn] != " ", "\(row)")
        }
        let latency = try #require(lines.first { $0.hasPrefix("  latency ") })
        #expect(latency.contains("450 ms"))
        #expect(latency.contains("breached") || latency.contains("pending"))
        // Piped: the same table in ASCII, no escape code.
        let (prc, piped, _) = try slawatch(["status", "--socket", daemon.controlSocket])
        #expect(prc == 0)
        #expect(!piped.contains("\u{1B}"))
        #expect(piped.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(piped.contains("checkout (platform -> shop)"))
        #expect(piped.contains("<= 300 ms"))
    }
}
