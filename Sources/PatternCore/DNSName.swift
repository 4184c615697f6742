/// The DNS-1123 checks (apimachinery `IsDNS1123Label`, `IsDNS1123Subdomain`) over UTF-8 bytes
/// in place: they run on every rendered object's name, namespace and apiVersion, and on site
/// selector keys, so no array or substring is made per check.
public enum DNSName {
    /// A lowercase ASCII letter or a digit.
    @inline(__always) public static func isAlphanumeric(_ c: UInt8) -> Bool { (c &- 97) < 26 || (c &- 48) < 10 }

    /// Lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63 bytes.
    public static func isLabel(_ u: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard let first = u.first, let last = u.last, u.count <= 63,
              isAlphanumeric(first), isAlphanumeric(last) else { return false }
        for c in u where !isAlphanumeric(c) && c != UInt8(ascii: "-") { return false }
        return true
    }

    /// Labels separated by '.', at most 253 bytes in all.
    public static func isSubdomain(_ u: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard !u.isEmpty, u.count <= 253 else { return false }
        var start = u.startIndex
        for i in u.indices where u[i] == UInt8(ascii: ".") {
            guard isLabel(u[start..<i]) else { return false }
            start = i + 1
        }
        return isLabel(u[start..<u.endIndex])
    }
}
