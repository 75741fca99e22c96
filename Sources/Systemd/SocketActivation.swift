import CSystemd
import Foundation

/// systemd socket activation (sd_listen_fds(3)).
public enum SocketActivation {
    /// The fds passed by the service manager with their `FileDescriptorName=` (or `unknown`),
    /// starting at `SD_LISTEN_FDS_START` (3). Empty when `LISTEN_PID` is not this process or no
    /// fds were passed. The environment is left untouched (`unset_environment` = 0), because
    /// `unsetenv` is not safe once threads run; slawatch starts no children that could inherit it.
    public static func listenFDs() -> [(fd: Int32, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(0, &names)
        guard n > 0 else { return [] }
        var out: [(Int32, String)] = []
        for i in 0..<Int(n) {
            let name = names?[i].map { String(cString: $0) } ?? "unknown"
            out.append((SD_LISTEN_FDS_START + Int32(i), name))
            free(names?[i])
        }
        free(names)
        return out
    }
}
