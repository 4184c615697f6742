import Foundation
import Testing
import PatternCore
@testable import KubeClient

/// A free loopback port with nothing listening on it.
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    close(fd)
    return Int(UInt16(bigEndian: addr.sin_port))
}

@Suite struct TransportTests {
    @Test func connectionRefusedIsReadableAndHidesTheToken() async throws {
        let port = closedPort()
        var auth = ClientConfig.Auth()
        auth.token = "refused-token-SECRET"
        var cfg = ClientConfig(server: "https://127.0.0.1:\(port)", auth: auth)
        cfg.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01)
        let client = KubeClient(config: cfg)
        do {
            _ = try await client.serverVersion()
            Issue.record("expected a failure")
        } catch {
            guard case .transport(let t) = error else { Issue.record("\(error)"); return }
            #expect(t.kind == .connect)
            #expect(t.message == "cannot connect to https://127.0.0.1:\(port): connection refused")
            #expect(!"\(error)".contains("SECRET"))
            var dumped = ""
            dump(error, to: &dumped)
            #expect(!dumped.contains("SECRET"))
        }
    }
}

