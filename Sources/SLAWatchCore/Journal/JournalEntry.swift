/// A journal field name (systemd.journal-fields(7)): journald keeps only names matching
/// `[A-Z][A-Z0-9_]{0,63}` (`Journal.isValidFieldName` checks before sending). slawatch's own
/// fields start with `SLAWATCH_`; the catalog (`docs/catalog`) documents them.
public struct JournalField: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The name as journald stores it.
    public let rawValue: String
    /// A field named `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A field named by a literal (`"SLAWATCH_SOURCE"`).
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The name.
    public var description: String { rawValue }

    /// The human-readable text (`MESSAGE`).
    public static let message: JournalField = "MESSAGE"
    /// The 128-bit id of the kind of entry (`MESSAGE_ID`, see `MessageID`).
    public static let messageID: JournalField = "MESSAGE_ID"
    /// The syslog level, 0–7 (`PRIORITY`).
    public static let priority: JournalField = "PRIORITY"
    /// The program (`SYSLOG_IDENTIFIER`, what `journalctl -t` selects).
    public static let syslogIdentifier: JournalField = "SYSLOG_IDENTIFIER"
    /// The transition kind of an alert entry (`SLAWATCH_TRANSITION`).
    public static let transition: JournalField = "SLAWATCH_TRANSITION"
}

/// One journal entry as slawatch's components make it: its kind (`MESSAGE_ID`), priority, the
/// sentence for people and the structured fields, typed. Only `journalFields` renders it into
/// journald's `NAME=value` pairs, adding `SYSLOG_IDENTIFIER=slawatch` and the priority digit;
/// the daemon's `JournalEmitter` is what sends it. Nothing reads a rendered entry back: what
/// the shell needs to know (the transition kind, for storm limiting) is a property.
public struct JournalEntry: Sendable, Equatable {
    /// The kind of entry: one of `MessageID`'s ids.
    public var messageID: String
    /// The syslog level.
    public var priority: Severity
    /// The sentence for people (`MESSAGE`).
    public var message: String
    /// The structured fields, in order (a name may repeat).
    public var fields: [Field]
    /// For alert entries, the transition they announce.
    public var transition: TransitionKind?

    /// One structured field.
    public struct Field: Sendable, Equatable {
        /// Its name.
        public var name: JournalField
        /// Its value (any UTF-8, newlines allowed).
        public var value: String
        /// A field.
        public init(_ name: JournalField, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The `SYSLOG_IDENTIFIER` of every entry slawatch writes.
    public static let identifier = "slawatch"

    /// An entry; `fields` in the order given.
    public init(
        _ messageID: String,
        priority: Severity,
        message: String,
        fields: KeyValuePairs<JournalField, String> = [:],
        transition: TransitionKind? = nil
    ) {
        self.messageID = messageID
        self.priority = priority
        self.message = message
        self.fields = fields.map { Field($0.key, $0.value) }
        self.transition = transition
    }

    /// Appends a field.
    public mutating func append(_ name: JournalField, _ value: String) {
        fields.append(Field(name, value))
    }

    /// The first value of field `name` (`MESSAGE`, `MESSAGE_ID`, `PRIORITY` and
    /// `SYSLOG_IDENTIFIER` included), `nil` when absent.
    public subscript(_ name: JournalField) -> String? {
        switch name {
        case .message: message
        case .messageID: messageID
        case .priority: String(priority.rawValue)
        case .syslogIdentifier: Self.identifier
        default: fields.first { $0.name == name }?.value
        }
    }

    /// journald's `NAME=value` pairs: `MESSAGE`, `MESSAGE_ID`, `PRIORITY`, `SYSLOG_IDENTIFIER`,
    /// then the fields in order.
    public var journalFields: [(String, String)] {
        [
            (JournalField.message.rawValue, message),
            (JournalField.messageID.rawValue, messageID),
            (JournalField.priority.rawValue, String(priority.rawValue)),
            (JournalField.syslogIdentifier.rawValue, Self.identifier),
        ] + fields.map { ($0.name.rawValue, $0.value) }
    }
}
