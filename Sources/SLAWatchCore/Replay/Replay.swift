import Foundation

/// Backtesting (`slawatch replay`): the engine run over recorded events with **event time as the
/// clock**. Events are sorted by time; the engine evaluates every `step` seconds of event time
/// and hands each transition's journal fields (the very entries the daemon would write) to the
/// caller.
public enum Replay {
    /// Events read from one file, in any drop-directory format (by extension: `.statsd`,
    /// `.jsonl`, `.json`, `.csv`, `.prom`), with the lines that could not be read.
    public struct FileEvents: Sendable {
        /// The events, in file order.
        public var events: [Event]
        /// Rejected lines (line number, reason, excerpt).
        public var rejections: [LineRejection]
        /// Lines read.
        public var lines: Int
    }

    /// A file replay cannot read at all.
    public struct FileError: Error, CustomStringConvertible {
        /// The file.
        public var path: String
        /// Why.
        public var reason: String
        /// `PATH: REASON`.
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads a file the way the drop directory would (`DropFileFormat`: the format by extension,
    /// BOM and CRLF accepted, lines up to 1 MiB, a `.json` document whole and at most
    /// `maxJSONBytes`, each rejection at its own line).
    /// - Parameter csv: mappings for CSV files without slawatch's own columns (first match by
    ///   file name wins).
    /// - Throws: `FileError` for an unreadable file, an unknown extension, non-UTF-8 content,
    ///   an unusable CSV header or a `.json` document that is not JSON or too large.
    public static func read(
        path: String,
        csv: [CSVMapping],
        maxJSONBytes: Int = JSONDocumentReader.defaultMaxBytes
    ) throws -> FileEvents {
        let name = (path as NSString).lastPathComponent
        guard let format = DropFileFormat.of(fileName: name, csv: csv) else {
            throw FileError(path: path, reason: DropFileFormat.unknownExtension(name))
        }
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw FileError(path: path, reason: error.reason)
        }
        switch format {
        case .json:
            do {
                let doc = try JSONDocumentReader.read(Array(text.utf8), maxBytes: maxJSONBytes)
                return FileEvents(events: Array(doc.events), rejections: doc.rejections, lines: doc.lineCount)
            } catch {
                throw FileError(path: path, reason: error.description)
            }
        case .lines(let lineFormat):
            var batcher = LineBatcher(maxLineBytes: 1 << 20, format: lineFormat)
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { batcher.feed($0) }
            batcher.finish()
            if let fatal = batcher.fatalError { throw FileError(path: path, reason: fatal) }
            let b = batcher.take()
            return FileEvents(events: Array(b.events), rejections: b.rejections, lines: batcher.lineCount)
        }
    }

    /// What a replay found.
    public struct Summary: Sendable {
        /// Events replayed (with an event time).
        public var events = 0
        /// Events skipped because they carry no time (a replay needs event time).
        public var untimed = 0
        /// Events the engine rejected (too late for every window).
        public var rejected = 0
        /// Evaluations run.
        public var evaluations = 0
        /// Breach episodes per objective: `(objective, start, end)`; `end` is `nil` when the
        /// replay ended in the breach.
        public var episodes: [(objective: String, start: Double, end: Double?)] = []
    }

    /// Runs `objectives` over `events` with event time as the clock, evaluating every `step`
    /// seconds from the first event's time to `step` past the last one.
    /// - Parameter emit: called for each journal entry and the event time of the
    ///   evaluation that wrote it.
    public static func run(
        objectives: [Objective],
        events input: [Event],
        step: Double,
        emit: (JournalEntry, Double) -> Void
    ) -> Summary {
        var summary = Summary()
        let timed = input.filter { $0.time != nil }
        summary.untimed = input.count - timed.count
        let sorted = timed.enumerated().sorted { ($0.element.time!, $0.offset) < ($1.element.time!, $1.offset) }.map(
            \.element
        )
        summary.events = sorted.count
        guard let first = sorted.first?.time, let last = sorted.last?.time else { return summary }
        var engine = Engine(objectives: objectives, maxFutureSkew: 0)
        var open: [String: Int] = [:]
        var next = 0
        var now = (first / step).rounded(.down) * step
        let end = last + step
        while now <= end {
            var batch: [Event] = []
            while next < sorted.count, sorted[next].time! <= now {
                batch.append(sorted[next])
                next += 1
            }
            if !batch.isEmpty { summary.rejected += engine.ingest(batch, now: now).rejected.count }
            summary.evaluations += 1
            for t in engine.evaluate(at: now) {
                guard let o = engine.objective(named: t.objective) else { continue }
                emit(AlertEntry.entry(t, o), now)
                switch t.kind {
                case .breach:
                    open[t.objective] = summary.episodes.count
                    summary.episodes.append((t.objective, now, nil))
                case .recovery:
                    if let k = open.removeValue(forKey: t.objective) { summary.episodes[k].end = now }
                default: break
                }
            }
            now += step
        }
        return summary
    }
}

extension Replay {
    /// An objective whose input never shows up in recorded events: its metric never appears (a
    /// typo such as `api.requests.faild` while 400 `api.requests.failed` events go by), or it
    /// appears but never with the labels the objective selects.
    public struct Unseen: Sendable, Equatable, CustomStringConvertible {
        /// The objective.
        public var objective: String
        /// The metric that was not seen (the objective's, or its `good` selector's).
        public var metric: String
        /// Events of `metric` in the input (0: the name never appears).
        public var eventsOfMetric: Int
        /// The label filter that no event of `metric` satisfied (empty when the name never appears).
        public var labels: [String: String]
        /// A metric of the input close to `metric`, with its number of events.
        public var suggestion: (metric: String, events: Int)?

        /// "objective X: metric M never appears in the input (400 events of N do: did you mean N?)".
        public var description: String {
            if eventsOfMetric == 0 {
                let hint =
                    suggestion.map { "; \($0.events) event(s) of \($0.metric) do: did you mean \($0.metric)?" } ?? ""
                return "objective \(objective): metric \(metric) never appears in the input\(hint)"
            }
            // Matcher texts carry their operator (`=~2..`, `!=x`); a plain value means equals.
            let filter = labels.sorted { $0.key < $1.key }.map { k, v in
                ["=", "!"].contains(where: v.hasPrefix) ? "\(k)\(v)" : "\(k)=\(v)"
            }
            .joined(separator: ", ")
            return
                "objective \(objective): \(eventsOfMetric) event(s) of \(metric) in the input, but none with labels {\(filter)}"
        }

        public static func == (a: Unseen, b: Unseen) -> Bool {
            a.objective == b.objective && a.metric == b.metric && a.eventsOfMetric == b.eventsOfMetric
                && a.labels == b.labels && a.suggestion?.metric == b.suggestion?.metric
                && a.suggestion?.events == b.suggestion?.events
        }
    }

    /// The objectives (and `good` selectors) that no event of `events` feeds, in objective order.
    public static func unseen(objectives: [Objective], events: [Event]) -> [Unseen] {
        var countByMetric: [String: Int] = [:]
        var labelSets: [String: Set<[String: String]>] = [:]
        for e in events {
            countByMetric[e.metric, default: 0] += 1
            if labelSets[e.metric, default: []].count < 10_000 { labelSets[e.metric, default: []].insert(e.labels) }
        }
        var out: [Unseen] = []
        for o in objectives {
            var selectors = [(o.metric, o.match)]
            // A good selector on the same metric and labels as the total is the same input.
            if let g = o.good, g.metric != o.metric || g.match != o.match { selectors.append((g.metric, g.match)) }
            var reported: Set<String> = []
            for (metric, match) in selectors {
                // The same metric never seen is said once per objective.
                if countByMetric[metric] == nil, !reported.insert(metric).inserted { continue }
                let n = countByMetric[metric] ?? 0
                if n == 0 {
                    let near = Suggestion.closest(to: metric, among: countByMetric.keys)
                    out.append(
                        Unseen(
                            objective: o.name,
                            metric: metric,
                            eventsOfMetric: 0,
                            labels: [:],
                            suggestion: near.map { ($0, countByMetric[$0] ?? 0) }
                        )
                    )
                    continue
                }
                guard !match.isEmpty, let matchers = try? LabelMatcher.parse(match) else { continue }
                if !(labelSets[metric] ?? []).contains(where: { LabelMatcher.all(matchers, $0) }) {
                    out.append(Unseen(objective: o.name, metric: metric, eventsOfMetric: n, labels: match))
                }
            }
        }
        return out
    }
}
