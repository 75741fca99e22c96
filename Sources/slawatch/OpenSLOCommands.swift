import ArgumentParser
import Foundation
import SLAWatchCore

/// `slawatch import openslo`: OpenSLO v1 documents → an objectives file (docs/openslo.md).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import objectives from another format.",
        subcommands: [ImportOpenSLO.self]
    )
}

/// `slawatch export openslo`: the objectives → OpenSLO v1 documents (docs/openslo.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the objectives in another format.",
        subcommands: [ExportOpenSLO.self]
    )
}

struct ImportOpenSLO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openslo",
        abstract: "Turn OpenSLO v1 documents (SLO, SLI, Service, AlertPolicy, AlertCondition) into an objectives file.",
        discussion: """
            Reads every FILE (documents separated by ---) and prints one objectives file that \
            slawatch check accepts, one SLA per service. A metric source of type slawatch \
            (spec: metric, labels) maps directly; other sources map through --metric-map (a YAML \
            list of {query, metric, labels, type}). What slawatch cannot honour is an error naming \
            file, line and key (exit 1); nothing is dropped.
            """
    )

    @Argument(help: "OpenSLO YAML files.")
    var files: [String]
    @Option(name: .long, help: "YAML list mapping source queries to slawatch metrics.")
    var metricMap: String?
    @Option(name: .long, help: "The SLAs' provider (default: the service's name).")
    var provider: String?
    @Option(name: .long, help: "The SLAs' customer (default: users).")
    var customer: String?
    @Option(name: .shortAndLong, help: "Write the objectives file here instead of standard output.")
    var output: String?

    func validate() throws {
        if provider?.isEmpty == true { throw ValidationError("--provider names the SLAs' provider: give a name") }
        if customer?.isEmpty == true { throw ValidationError("--customer names the SLAs' customer: give a name") }
    }

    func run() throws {
        do {
            var docs: [(text: String, file: String)] = []
            for f in files { docs.append((try TextFile.read(f), f)) }
            let map = try metricMap.map { try OpenSLO.metricMap(try TextFile.read($0), file: $0) } ?? []
            let (yaml, notes) = try OpenSLO.importWithNotes(
                docs,
                metricMap: map,
                provider: provider,
                customer: customer
            )
            for n in notes { printError("slawatch import openslo: note: \(n)") }
            // What import writes must load: checked before it is handed over.
            _ = try ObjectivesConfig.parse(yaml, file: output ?? "(imported)")
            if let output {
                do {
                    try yaml.write(toFile: output, atomically: true, encoding: .utf8)
                } catch {
                    printError(
                        "slawatch import openslo: cannot write \(output): \((error as NSError).localizedDescription)"
                    )
                    throw ExitCode(1)
                }
            } else {
                print(yaml, terminator: "")
            }
        } catch let e as ConfigErrors {
            printError(e.description)
            throw ExitCode(1)
        } catch let e as TextFile.ReadError {
            printError("slawatch import openslo: \(e)")
            throw ExitCode(1)
        }
    }
}

struct ExportOpenSLO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openslo",
        abstract: "Write the configured objectives as OpenSLO v1 SLO documents.",
        discussion: """
            Ratio, threshold and time-slice objectives become SLO documents with their SLI inline \
            and a slawatch metric source; objectives OpenSLO cannot express (counts, sums, \
            percentiles, averages, at-most targets, computed baselines) are named on standard error.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: "Objectives directory instead of the config's.")
    var objectives: String?
    @Option(name: .shortAndLong, help: "Write the documents here instead of standard output.")
    var output: String?

    func run() throws {
        let loaded: [Objective]
        do {
            let dir = try objectives ?? options.load().objectivesDirectory
            loaded = Objective.inForce(
                try ObjectivesConfig.loadRequired(directory: dir),
                at: Date().timeIntervalSince1970
            )
        } catch let e as ConfigErrors {
            printError(e.description)
            throw ExitCode(1)
        }
        let (yaml, skipped) = OpenSLO.export(loaded)
        for s in skipped { printError("not exported: \(s.name): \(s.reason)") }
        if let output {
            try yaml.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(yaml, terminator: "")
        }
    }
}
