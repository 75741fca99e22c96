import Synchronization

/// Instance name → row id, shared by the store's transactions. Thread-safe.
final class InstanceIDs: Sendable {
    private let ids = Mutex<[String: Int64]>([:])

    func get(_ name: String) -> Int64? { ids.withLock { $0[name] } }

    func set(_ name: String, _ id: Int64) { ids.withLock { $0[name] = id } }

    func remove(_ name: String) { ids.withLock { _ = $0.removeValue(forKey: name) } }

    func retain(_ names: Set<String>) { ids.withLock { $0 = $0.filter { names.contains($0.key) } } }
}
