import Foundation
import SLAWatchTestSupport
import Testing

/// `slawatch replay` over the NAB corpus with the objectives committed in `config/examples/`.
@Suite struct NABReplayTests {
    /// Labelled anomaly windows of a NAB file (`labels.json`), as unix seconds.
    static func windows(_ file: String, in dir: String) throws -> [(Double, Double)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/nab/labels.json"))
        let all = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
        let list = all[file]?["windows"] as? [[String]] ?? []
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
        return list.compactMap { w in
            guard let a = f.date(from: w[0]), let b = f.date(from: w[1]) else { return nil }
            return (a.timeIntervalSince1970, b.timeIntervalSince1970)
        }
    }

    @Test func ec2LatencyBreachesInsideTheLabelledFailureWindows() throws {
        let dir = try #require(sharedDataDirectory, "../shared/data not found (set SLAWATCH_DATA_DIR)")
        let (rc, out, err) = try slawatch(
            [
                "replay", "--objectives", packageRoot.appendingPathComponent("config/examples/nab-ec2").path,
                "--csv-metric", "ec2.latency", "--csv-kind", "distribution", "--step", "5m", "--output", "json",
                dir + "/nab/ec2_request_latency_system_failure.csv",
            ]
        )
        #expect(rc == 0, "\(err)")
        let entries = out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        let breaches = entries.filter { $0["SLAWATCH_TRANSITION"] == "breach" }
        let f = ISO8601DateFormatter()
        let times = breaches.compactMap { $0["SLAWATCH_AT"].flatMap { f.date(from: $0)?.timeIntervalSince1970 } }
        let windows = try Self.windows("ec2_request_latency_system_failure.csv", in: dir)
        #expect(windows.count == 3)
        let hit = windows.filter { w in times.contains { $0 >= w.0 && $0 <= w.1 } }
        let outside = times.filter { t in !windows.contains { t >= $0.0 && t <= $0.1 } }
        print(
            "ec2 replay: \(breaches.count) breach(es), inside \(hit.count) of 3 labelled windows, \(outside.count) outside"
        )
        #expect(hit.count >= 2)
        #expect(outside.isEmpty)
        #expect(breaches.first?["SLAWATCH_OBJECTIVE"] == "request-latency-p95-30m")
        #expect(breaches.first?["MESSAGE_ID"] != nil)
        #expect(err.contains("request-latency-p95-30m: 2 breach episode(s)"))
    }
}

extension NABReplayTests {
    @Test func nycTaxiAdaptiveSeasonalBreachesOverlapTheLabelledDrops() throws {
        let dir = try #require(sharedDataDirectory, "../shared/data not found (set SLAWATCH_DATA_DIR)")
        let (rc, out, err) = try slawatch(
            [
                "replay", "--objectives", packageRoot.appendingPathComponent("config/examples/nab-taxi").path,
                "--csv-metric", "taxi.passengers", "--step", "5m", "--output", "json", dir + "/nab/nyc_taxi.csv",
            ]
        )
        #expect(rc == 0, "\(err)")
        let entries = out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        let f = ISO8601DateFormatter()
        let breaches = entries.filter { $0["SLAWATCH_TRANSITION"] == "breach" }.compactMap {
            $0["SLAWATCH_AT"].flatMap { f.date(from: $0)?.timeIntervalSince1970 }
        }
        let windows = try Self.windows("nyc_taxi.csv", in: dir)
        #expect(windows.count == 5)
        // Thanksgiving, Christmas and the blizzard are windows 2, 3 and 5.
        for k in [1, 2, 4] {
            #expect(breaches.contains { $0 >= windows[k].0 && $0 <= windows[k].1 }, "no breach in window \(k + 1)")
        }
        let outside = breaches.filter { t in !windows.contains { t >= $0.0 && t <= $0.1 } }
        print("taxi replay: \(breaches.count) breach episode(s), \(outside.count) outside the labelled windows")
        #expect(outside.count <= 5)
        #expect(entries.first { $0["SLAWATCH_TRANSITION"] == "breach" }?["SLAWATCH_BASELINE_KIND"] == "adaptive")
    }
}

extension NABReplayTests {
    /// Breach entries of `slawatch replay` with the default adaptive setting
    /// (`config/examples/adaptive-default`) over one NAB file: objective name and unix time.
    func defaultSettingBreaches(_ file: String, dir: String) throws -> [(String, Double)] {
        let (rc, out, err) = try slawatch(
            [
                "replay", "--objectives", packageRoot.appendingPathComponent("config/examples/adaptive-default").path,
                "--csv-metric", "series.value", "--csv-kind", "distribution", "--step", "5m", "--output", "json",
                dir + "/nab/" + file,
            ]
        )
        #expect(rc == 0, "\(err)")
        let f = ISO8601DateFormatter()
        return out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }.filter { $0["SLAWATCH_TRANSITION"] == "breach" }.compactMap { e in
            guard let o = e["SLAWATCH_OBJECTIVE"], let t = e["SLAWATCH_AT"].flatMap(f.date(from:)) else { return nil }
            return (o, t.timeIntervalSince1970)
        }
    }

    /// The default setting (`baseline: adaptive`) on two-week series: no breach on the two
    /// without anomalies in either direction, not on their first days either (the whole history
    /// stands in for a season only once it covers a day, and never judges a value inside the
    /// range it has seen); the jump up and the missing peak are caught inside their windows and
    /// nowhere else.
    @Test func theDefaultSettingCatchesTheArtificialAnomaliesAndNothingElse() throws {
        let dir = try #require(sharedDataDirectory, "../shared/data not found (set SLAWATCH_DATA_DIR)")
        #expect(try defaultSettingBreaches("art_daily_no_noise.csv", dir: dir).isEmpty)
        #expect(try defaultSettingBreaches("art_noisy.csv", dir: dir).isEmpty)
        for (file, objective) in [("art_daily_jumpsup.csv", "above-usual"), ("art_daily_nojump.csv", "below-usual")] {
            let w = try #require(try Self.windows(file, in: dir).first)
            let breaches = try defaultSettingBreaches(file, dir: dir).filter { $0.0 == objective }
            #expect(breaches.count == 1, "\(file): \(breaches)")
            #expect(breaches.allSatisfy { $0.1 >= w.0 && $0.1 <= w.1 }, "\(file): \(breaches)")
        }
    }
}
