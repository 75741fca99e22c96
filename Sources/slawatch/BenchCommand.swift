import ArgumentParser
import Foundation
import SLAWatchDaemon

/// `slawatch bench`: a load generator for a running daemon. It measures events per second through
/// one stream connection (acknowledged with `#sync`, so everything counted is in the engine and
/// committed), datagrams per second through the datagram socket, and the daemon's CPU time from
/// `/proc/PID/stat` (utime + stime), so results read as events per CPU-second on a shared machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a running daemon: events/s on the stream socket, datagrams/s, daemon CPU."
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Ingest stream socket (default: from the config).")
    var socket: String?
    @Option(name: .long, help: "Events to send.")
    var events: Int = 1_000_000
    @Option(name: .long, help: "Distinct series (metric names × tag values). Metric names: min(series, 1000).")
    var series: Int = 1000
    @Option(name: .long, help: "Also send this many datagrams to ingest.dgram (0: skip).")
    var datagrams: Int = 0
    @Option(name: .long, help: "Lines per datagram.")
    var linesPerDatagram: Int = 20
    @Option(name: .long, help: "Metric name prefix.")
    var prefix: String = "bench.s"

    func run() throws {
        let path = try ingestSocket(socket, options)
        let control = (path as NSString).deletingLastPathComponent + "/control.sock"
        let pid = try daemonPID(control)
        let names = max(1, min(series, 1000))
        let shards = max(1, series / names)
        var payload = Data()
        payload.reserveCapacity(events * 32)
        for i in 0..<events {
            var line = "\(prefix)\(i % names):1|c"
            if shards > 1 { line += "|#shard:\(i / names % shards)" }
            payload.append(contentsOf: Array((line + "\n").utf8))
        }
        payload.append(contentsOf: Array("#sync bench\n".utf8))
        let cpu0 = cpuSeconds(pid)
        let t0 = Date()
        let reply = try UnixClient.exchange(path: path, payload: payload, until: "bench ", timeout: 600)
        let wall = Date().timeIntervalSince(t0)
        let cpu = cpuSeconds(pid) - cpu0
        guard reply.contains("ok bench \(events) 0") else {
            throw ValidationError("daemon answered: \(reply.suffix(200))")
        }
        print("stream: \(events) events, \(series) series, \(payload.count) bytes")
        print(String(format: "  wall %.3f s: %.0f events/s", wall, Double(events) / wall))
        print(String(format: "  daemon CPU %.2f s: %.0f events per CPU-second", cpu, Double(events) / max(cpu, 0.01)))
        if datagrams > 0 { try benchDatagrams(path: path, control: control, pid: pid, names: names) }
    }

    private func benchDatagrams(path: String, control: String, pid: Int32, names: Int) throws {
        let dgram = (path as NSString).deletingLastPathComponent + "/ingest.dgram"
        let before = try acceptedTotal(control)
        var message = ""
        for i in 0..<linesPerDatagram { message += "\(prefix)\(i % names):1|c\n" }
        let bytes = Array(message.utf8)
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(fd) }
        let rc = try withUnixSocketAddress(dgram) { connect(fd, $0, $1) }
        guard rc == 0 else { throw ValidationError("cannot connect to \(dgram)") }
        let cpu0 = cpuSeconds(pid)
        let t0 = Date()
        for _ in 0..<self.datagrams {
            // Blocking send: when the daemon's queue is full the sender waits instead of losing.
            while send(fd, bytes, bytes.count, 0) < 0 && errno == EINTR {}
        }
        let expected = before + self.datagrams * linesPerDatagram
        while try acceptedTotal(control) < expected {
            if Date().timeIntervalSince(t0) > 600 { throw ValidationError("datagram events did not all arrive") }
            usleep(2000)
        }
        let wall = Date().timeIntervalSince(t0)
        let cpu = cpuSeconds(pid) - cpu0
        print("datagram: \(datagrams) datagrams × \(linesPerDatagram) lines")
        print(
            String(
                format: "  wall %.3f s: %.0f datagrams/s, %.0f events/s",
                wall,
                Double(datagrams) / wall,
                Double(datagrams * linesPerDatagram) / wall
            )
        )
        print(
            String(
                format: "  daemon CPU %.2f s: %.0f events per CPU-second",
                cpu,
                Double(datagrams * linesPerDatagram) / max(cpu, 0.01)
            )
        )
    }

    private func status(_ control: String) throws -> [String: Any] {
        let reply = try UnixClient.exchange(path: control, payload: Data("status\n".utf8), until: nil, timeout: 10)
        guard let obj = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else {
            throw ValidationError("unexpected status answer")
        }
        return obj
    }

    private func daemonPID(_ control: String) throws -> Int32 {
        guard let pid = try status(control)["pid"] as? Int else { throw ValidationError("status has no pid") }
        return Int32(pid)
    }

    private func acceptedTotal(_ control: String) throws -> Int { try status(control)["accepted"] as? Int ?? 0 }
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat` fields 14 and 15.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After "pid (comm)": field 3 is at index 0, so utime (14) is index 11 and stime (15) index 12.
    guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
