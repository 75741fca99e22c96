/// A configuration problem, located by file, line and key.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Path of the file as given.
    public var file: String
    /// 1-based line, 0 when unknown (e.g. an unreadable file).
    public var line: Int
    /// Dotted key path, e.g. `slas[0].objectives[1].baseline`.
    public var key: String
    /// What is wrong and what is expected.
    public var message: String

    /// Creates an error record.
    public init(file: String, line: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`, the shape compilers use, so editors can jump to it; `file:
    /// message` when no line applies (the file cannot be read at all).
    public var description: String {
        let k = key.isEmpty ? "" : "\(key): "
        return line > 0 ? "\(file):\(line): \(k)\(message)" : "\(file): \(k)\(message)"
    }
}

/// All problems found in a configuration; thrown when there is at least one.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var errors: [ConfigError]
    /// Creates the list.
    public init(_ errors: [ConfigError]) { self.errors = errors }
    /// One problem per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
