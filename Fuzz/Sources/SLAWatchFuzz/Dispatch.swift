import CLibFuzzer
import Foundation

/// The fuzz targets of this binary, by the name `SLAWATCH_FUZZ_TARGET` gives (Fuzz/README.md).
/// Each checks, besides "no crash, no sanitizer report", the promises its input format makes.
enum FuzzTarget: String, CaseIterable {
    /// One statsd/DogStatsD/JSON line, and the same bytes as a stream (docs/protocol.md).
    case lines
    /// A CSV drop file, with and without a mapping (docs/drop-directory.md).
    case csv
    /// A Prometheus text exposition drop file (`.prom`).
    case prom
    /// A whole `.json` drop document.
    case json
    /// An objectives YAML file and a daemon configuration file.
    case yaml
    /// A baseline expression (`10000 / ${deal-size} / 0.2`).
    case expression
    /// A label matcher (`=~5..`, `!~…`) and the values it is tried on.
    case regex
    /// A stored instance (its JSON state and a binary bucket) restored into an engine.
    case state

    /// The target named by `SLAWATCH_FUZZ_TARGET` (default `lines`).
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["SLAWATCH_FUZZ_TARGET"] ?? "lines"
        guard let t = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("SLAWATCH_FUZZ_TARGET=\(name) is not a target; expected one of: \(names)")
        }
        return t
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    switch FuzzTarget.selected {
    case .lines: fuzzLines(bytes)
    case .csv: fuzzCSV(bytes)
    case .prom: fuzzPrometheus(bytes)
    case .json: fuzzJSONDocument(bytes)
    case .yaml: fuzzYAML(bytes)
    case .expression: fuzzExpression(bytes)
    case .regex: fuzzRegex(bytes)
    case .state: fuzzState(bytes)
    }
    return 0
}

/// The program's entry point. SwiftPM links executables with `--defsym main=slawatch_fuzz_main`
/// (so that tests can link them), and `-parse-as-library` emits no `main`: this one hands over
/// to libFuzzer's driver, as libFuzzer's own `main` would (swiftlang/swift#75800).
@_cdecl("slawatch_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var values = argv
    return LLVMFuzzerRunDriver(&count, &values) { data, size in
        fuzzOneInput(UnsafeRawPointer(data), size)
    }
}
