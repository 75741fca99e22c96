import Foundation
import SLAWatchCore

/// A CSV drop file: read without a mapping (the header names the columns) and with one (a time
/// column in a zone, labels added), in two chunks cut at a data-dependent point.
func fuzzCSV(_ bytes: UnsafeRawBufferPointer) {
    checkBatch(bytes, format: .csv(nil))
    let mapping = CSVMapping(
        pattern: "*.csv",
        metric: "leads",
        timeColumn: "created",
        valueColumn: "amount",
        kind: .distribution,
        labels: ["source": "crm"],
        timeZone: "Europe/Paris"
    )
    checkBatch(bytes, format: .csv(mapping))
}

/// A Prometheus text exposition (`.prom` drop file).
func fuzzPrometheus(_ bytes: UnsafeRawBufferPointer) {
    checkBatch(bytes, format: .prometheus)
}

/// A whole `.json` drop document: either refused as a whole (with a reason) or read into events
/// each on a line of the document.
func fuzzJSONDocument(_ bytes: UnsafeRawBufferPointer) {
    let data = Array(bytes)
    let doc: JSONDocumentReader.Document
    do {
        doc = try JSONDocumentReader.read(data, maxBytes: 1 << 20)
    } catch {
        precondition(!error.description.isEmpty, "a refusal without a reason")
        return
    }
    precondition(doc.events.count == doc.eventLines.count, "events and line numbers differ")
    precondition(doc.eventLines.allSatisfy { $0 >= 1 && $0 <= max(doc.lineCount, 1) }, "event line out of the file")
    precondition(doc.rejections.allSatisfy { $0.line >= 1 && $0.line <= max(doc.lineCount, 1) }, "bad rejection line")
    for i in 0..<doc.events.count { checkEvent(doc.events[i]) }
}
