import Testing
@testable import PatternCompile

/// The DNS-1123 and kind-name checks every rendered object goes through, as Kubernetes
/// defines them (apimachinery `IsDNS1123Label`, `IsDNS1123Subdomain`; API versions
/// `<group>/<version>`), read over bytes in place.
@Suite struct DNSNameTests {
    @Test(arguments: [
        ("a", true), ("abc-123", true), ("0ab", true), (String(repeating: "a", count: 63), true),
        ("", false), (String(repeating: "a", count: 64), false), ("-a", false), ("a-", false),
        ("A", false), ("a_b", false), ("a.b", false), ("é", false), ("a b", false),
    ])
    func labels(_ s: String, _ valid: Bool) {
        #expect(isDNSLabel(s) == valid, "\(s)")
    }

    @Test(arguments: [
        ("a", true), ("a.b", true), ("apps.example.com", true), ("x-1.y-2", true),
        (String([String](repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".").dropLast(2)), true),
        ("", false), (".a", false), ("a.", false), ("a..b", false), ("A.b", false), ("a.-b", false),
        ("a.b-", false), ((1...128).map { _ in "a" }.joined(separator: "."), false),
    ])
    func subdomains(_ s: String, _ valid: Bool) {
        #expect(isDNSSubdomain(s) == valid, "\(s.prefix(40)) (\(s.utf8.count) bytes)")
    }

    @Test(arguments: [
        ("v1", true), ("apps/v1", true), ("networking.k8s.io/v1", true), ("example.com/v1beta1", true),
        ("", false), ("/v1", false), ("apps/", false), ("apps/v1/x", false), ("Apps/v1", false),
        ("apps/V1", false), ("a..b/v1", false),
    ])
    func apiVersions(_ s: String, _ valid: Bool) {
        #expect(ObjectValidation.isAPIVersion(s) == valid, "\(s)")
    }

    @Test(arguments: [
        ("ConfigMap", true), ("a", true), ("Kind-2", true), ("K8s", true),
        ("", false), ("2Kind", false), ("Kind-", false), ("Kind_x", false), ("Kind.x", false),
        (String(repeating: "K", count: 64), false),
    ])
    func kindNames(_ s: String, _ valid: Bool) {
        #expect(ObjectValidation.isKindName(s) == valid, "\(s)")
    }
}
