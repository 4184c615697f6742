import CTestTLS

/// A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate
/// (CN = user, O = group), all PEM, generated in memory (tests of TLS and client-cert auth).
public struct TestPKI: Sendable {
    public var caCertPEM: String
    public var caKeyPEM: String
    public var serverCertPEM: String
    public var serverKeyPEM: String
    public var clientCertPEM: String
    public var clientKeyPEM: String

    public static func generate(clientCommonName: String = "test-user", clientOrganization: String = "test-group") -> TestPKI? {
        let n = 16 * 1024
        let all = UnsafeMutablePointer<CChar>.allocate(capacity: 6 * n)
        defer { all.deallocate() }
        all.initialize(repeating: 0, count: 6 * n)
        let ok = ctt_make_test_pki(clientCommonName, clientOrganization, all, all + n, all + 2 * n, all + 3 * n, all + 4 * n, all + 5 * n, n)
        guard ok == 1 else { return nil }
        let s = (0..<6).map { String(cString: all + $0 * n) }
        return TestPKI(caCertPEM: s[0], caKeyPEM: s[1], serverCertPEM: s[2], serverKeyPEM: s[3], clientCertPEM: s[4], clientKeyPEM: s[5])
    }
}
