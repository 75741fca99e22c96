import Foundation

/// Says what is wrong with a JSON event line in its own terms, for `invalid_json` rejections
/// (`slawatch push`, sidecars, journal entries): `"value" is a boolean, not a number` rather than
/// "not an object with metric, value and kind" when it is one.
public enum JSONDiagnosis {
    /// The first problem of a JSON event line (an object, or an array of objects; with
    /// `element`, of that element of the array), or `nil` when the JSON layer finds none (the
    /// reason code then says it).
    public static func explain(_ line: String, element: Int? = nil) -> String? {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return "not valid JSON" + (detail.map { " (\($0))" } ?? "")
        }
        if let list = object as? [Any] {
            if let element { return element < list.count ? explain(event: list[element]) : nil }
            for (k, element) in list.enumerated() {
                if let problem = explain(event: element) { return "element \(k): \(problem)" }
            }
            return nil
        }
        return explain(event: object)
    }

    private static func explain(event: Any) -> String? {
        guard let e = event as? [String: Any] else {
            return "an event is a JSON object {\"metric\": …, \"value\": …, \"kind\": …}, not \(kind(of: event))"
        }
        guard let metric = e["metric"] else { return "no \"metric\" member" }
        if !(metric is String) { return "\"metric\" is \(kind(of: metric)), not a string" }
        if let value = e["value"], !(value is String), !isNumber(value) {
            return "\"value\" is \(kind(of: value)), not a number (or, for kind set, a string)"
        }
        if let k = e["kind"], !(k is String) { return "\"kind\" is \(kind(of: k)), not a string" }
        if let labels = e["labels"] {
            guard let l = labels as? [String: Any] else {
                return "\"labels\" is \(kind(of: labels)), not an object of strings"
            }
            for (name, v) in l.sorted(by: { $0.key < $1.key }) where !(v is String) && !isNumber(v) && !(v is NSNull) {
                return "label \"\(name)\" is \(kind(of: v)), not a string"
            }
        }
        if let t = e["time"], !(t is String), !isNumber(t) {
            return "\"time\" is \(kind(of: t)), not an RFC 3339 string or unix seconds"
        }
        return nil
    }

    private static func isNumber(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) != "c"
    }

    /// "a boolean", "a number", "a string", "null", "an array", "an object".
    private static func kind(of v: Any) -> String {
        if v is NSNull { return "null" }
        if v is String { return "a string" }
        if v is [Any] { return "an array" }
        if v is [String: Any] { return "an object" }
        if let n = v as? NSNumber { return String(cString: n.objCType) == "c" ? "a boolean" : "a number" }
        return "\(type(of: v))"
    }
}
