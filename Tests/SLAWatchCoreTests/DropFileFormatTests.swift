import Foundation
import Testing

@testable import SLAWatchCore

/// One reader of drop-file formats for the drop directory and `slawatch replay`: the same
/// format per extension, the same `.json` rules (whole-document validity, each rejection at the
/// line its element starts on, `max_json_bytes`).
@Suite struct DropFileFormatTests {
    @Test func formatByExtension() {
        let mapping = CSVMapping(pattern: "crm-*", metric: "leads", valueColumn: "n")
        #expect(DropFileFormat.of(fileName: "a.statsd", csv: []) == .lines(.socket))
        #expect(DropFileFormat.of(fileName: "a.JSONL", csv: []) == .lines(.socket))
        #expect(DropFileFormat.of(fileName: "a.prom", csv: []) == .lines(.prometheus))
        #expect(DropFileFormat.of(fileName: "a.json", csv: []) == .json)
        #expect(DropFileFormat.of(fileName: "crm-1.csv", csv: [mapping]) == .lines(.csv(mapping)))
        #expect(DropFileFormat.of(fileName: "other.csv", csv: [mapping]) == .lines(.csv(nil)))
        #expect(DropFileFormat.of(fileName: "a.txt", csv: []) == nil)
        #expect(DropFileFormat.unknownExtension("a") == "no extension (expected .statsd, .jsonl, .json, .csv or .prom)")
        #expect(DropFileFormat.json.ledgerKey == "json")
        #expect(DropFileFormat.lines(.socket).ledgerKey == "lines")
    }

    static let document = """
        [
          {"metric": "leads", "kind": "counter", "value": 1, "time": 1790000000},
          {"metric": "leads", "kind": "counter", "value": "x"},
          {"metric": "leads", "kind": "counter", "value": 2, "time": 1790000060}
        ]

        """

    @Test func jsonDocumentRejectsAnElementAtItsLine() throws {
        let doc = try JSONDocumentReader.read(Array(Self.document.utf8), maxBytes: 1 << 20)
        #expect(doc.events.count == 2)
        #expect(doc.eventLines == [2, 4])
        #expect(doc.rejections.map(\.line) == [3])
        #expect(doc.rejections.map(\.excerpt) == ["[element 1]"])
        #expect(doc.lineCount == 5)
    }

    @Test func jsonDocumentThatIsNotJSONOrTooLargeCountsNothing() {
        #expect(throws: JSONDocumentReader.Failure.tooLarge(10, limit: 9)) {
            try JSONDocumentReader.read(Array("[{\"a\": 1}]".utf8), maxBytes: 9)
        }
        #expect(throws: JSONDocumentReader.Failure.notAnArray) {
            try JSONDocumentReader.read(Array("leads:1|c".utf8), maxBytes: 100)
        }
        #expect {
            try JSONDocumentReader.read(Array("[{\"metric\": \"a\", \"value\": 1},".utf8), maxBytes: 100)
        } throws: { error in
            guard case .invalidJSON = error as? JSONDocumentReader.Failure else { return false }
            return true
        }
    }

    /// Replay reads a `.json` file as the drop directory does: the rejection at its own line
    /// (replay used to put every one on line 1), and `max_json_bytes` applies.
    @Test func replayReadsJSONLikeTheDropDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slawatch-dff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("leads.json").path
        try Self.document.write(toFile: path, atomically: true, encoding: .utf8)
        let f = try Replay.read(path: path, csv: [])
        #expect(f.events.map(\.value) == [1, 2])
        #expect(f.rejections.map(\.line) == [3])
        #expect(f.lines == 5)
        #expect(throws: Replay.FileError.self) { try Replay.read(path: path, csv: [], maxJSONBytes: 20) }
        let other = dir.appendingPathComponent("leads.txt").path
        try "x".write(toFile: other, atomically: true, encoding: .utf8)
        #expect {
            try Replay.read(path: other, csv: [])
        } throws: { error in
            (error as? Replay.FileError)?.reason
                == "unknown extension '.txt' (expected .statsd, .jsonl, .json, .csv or .prom)"
        }
    }
}
