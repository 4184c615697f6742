import Foundation
import PatternCore
import Testing
@testable import HelmTemplate

/// Sprig's key, certificate, bcrypt and AES functions, checked with the `openssl` CLI and
/// known vectors.
@Suite struct SprigKeysTests {
    let allowed = RenderOptions(allowNondeterministic: true)

    /// Runs `openssl args` in `dir`; (exit status, stdout + stderr).
    func openssl(_ args: [String], in dir: String) throws -> (Int32, String) {
        // Subprocess, not Foundation's Process (it crashes a process with many descriptors open).
        let o = try Subprocess.run("/usr/bin/openssl", args, directory: dir)
        return (o.status, String(decoding: o.stdout + o.stderr, as: UTF8.self))
    }

    func withDir(_ body: (String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "sprig-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func write(_ dir: String, _ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }

    @Test func aCAAndASignedCertificateVerifyWithOpenSSL() throws {
        let out = try render("""
        {{- $ca := genCA "pattern-ca" 365 -}}
        {{- $c := genSignedCert "web.example" (list "10.0.0.1" "::1") (list "web.example" "www.example") 30 $ca -}}
        {{ $ca.Cert }}|{{ $ca.Key }}|{{ $c.Cert }}|{{ $c.Key }}|{{ typeOf $ca }}
        """, options: allowed)
        let parts = out.components(separatedBy: "|")
        #expect(parts.count == 5 && parts[4] == "sprig.certificate")
        #expect(parts[0].hasPrefix("-----BEGIN CERTIFICATE-----\n") && parts[1].hasPrefix("-----BEGIN RSA PRIVATE KEY-----\n"))
        #expect(parts[3].hasPrefix("-----BEGIN RSA PRIVATE KEY-----\n"))
        try withDir { dir in
            try write(dir, "ca.pem", parts[0]); try write(dir, "ca.key", parts[1]); try write(dir, "c.pem", parts[2]); try write(dir, "c.key", parts[3])
            let v = try openssl(["verify", "-CAfile", "ca.pem", "c.pem"], in: dir)
            #expect(v.0 == 0 && v.1.contains("c.pem: OK"), "\(v.1)")
            let ca = try openssl(["x509", "-in", "ca.pem", "-noout", "-text"], in: dir).1
            #expect(ca.contains("CA:TRUE") && ca.contains("Certificate Sign") && ca.contains("Subject: CN = pattern-ca") && ca.contains("Subject Key Identifier"), "\(ca)")
            #expect(ca.contains("sha256WithRSAEncryption") && ca.contains("Public-Key: (2048 bit)"), "\(ca)")
            let c = try openssl(["x509", "-in", "c.pem", "-noout", "-text"], in: dir).1
            #expect(c.contains("DNS:web.example, DNS:www.example, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1"), "\(c)")
            #expect(c.contains("CA:FALSE") && c.contains("TLS Web Server Authentication, TLS Web Client Authentication"), "\(c)")
            #expect(c.contains("Issuer: CN = pattern-ca") && c.contains("Authority Key Identifier"), "\(c)")
            #expect(c.contains("X509v3 Key Usage: critical") && c.contains("Digital Signature, Key Encipherment"), "\(c)")
            // Valid for 30 days: still valid in 29, expired in 31.
            #expect(try openssl(["x509", "-in", "c.pem", "-noout", "-checkend", String(29 * 86400)], in: dir).0 == 0)
            #expect(try openssl(["x509", "-in", "c.pem", "-noout", "-checkend", String(31 * 86400)], in: dir).0 != 0)
            // The key is the certificate's.
            let certPub = try openssl(["x509", "-in", "c.pem", "-noout", "-pubkey"], in: dir).1
            let keyPub = try openssl(["pkey", "-in", "c.key", "-pubout"], in: dir).1
            #expect(certPub == keyPub && certPub.contains("BEGIN PUBLIC KEY"))
        }
    }

    @Test func generatedKeysHaveSprigsPEMTypesAndCertificatesTakeThem() throws {
        let out = try render("""
        {{- $ec := genPrivateKey "ecdsa" -}}{{- $ed := genPrivateKey "ed25519" -}}
        {{ $ec }}|{{ $ed }}|{{ (genSelfSignedCertWithKey "" nil (list "only.example") 1 $ec).Cert }}|{{ (genCAWithKey "ed-ca" 2 $ed).Key }}|{{ genPrivateKey "nope" }}
        """, options: allowed)
        let p = out.components(separatedBy: "|")
        #expect(p.count == 5)
        #expect(p[0].hasPrefix("-----BEGIN EC PRIVATE KEY-----\n") && p[1].hasPrefix("-----BEGIN PRIVATE KEY-----\n"), "\(out)")
        #expect(p[3] == p[1], "a WithKey certificate returns the key it was given, in Sprig's PEM form")
        #expect(p[4] == "Unknown type nope")
        try withDir { dir in
            try write(dir, "ec.key", p[0]); try write(dir, "ed.key", p[1]); try write(dir, "self.pem", p[2])
            #expect(try openssl(["pkey", "-in", "ec.key", "-noout", "-text"], in: dir).1.contains("NIST CURVE: P-256"))
            #expect(try openssl(["pkey", "-in", "ed.key", "-noout", "-text"], in: dir).1.contains("ED25519 Private-Key"))
            let t = try openssl(["x509", "-in", "self.pem", "-noout", "-text"], in: dir).1
            // No subject: the SAN extension is critical (RFC 5280 4.2.1.6, as Go writes it).
            #expect(t.contains("ecdsa-with-SHA256") && t.contains("X509v3 Subject Alternative Name: critical") && t.contains("DNS:only.example"), "\(t)")
        }
        // RSA keys are 4096 bits, as Sprig's.
        let rsa = try render(#"{{ genPrivateKey "rsa" }}"#, options: allowed)
        try withDir { dir in
            try write(dir, "rsa.key", rsa)
            #expect(rsa.hasPrefix("-----BEGIN RSA PRIVATE KEY-----\n"))
            #expect(try openssl(["pkey", "-in", "rsa.key", "-noout", "-text"], in: dir).1.contains("Private-Key: (4096 bit, 2 primes)"))
        }
        // DSA keys cannot sign certificates in Go's x509; the error says so.
        #expect(renderError(#"{{ genCAWithKey "x" 1 (genPrivateKey "dsa") }}"#, options: allowed).contains("x509: unsupported public key type"))
    }

    @Test func nondeterministicFunctionsAreRefusedUnlessAllowed() throws {
        for call in [#"genCA "x" 1"#, #"genPrivateKey "ecdsa""#, #"bcrypt "x""#, #"htpasswd "u" "p""#, #"encryptAES "k" "t""#, "randBytes 4"] {
            let e = renderError("{{ \(call) }}")
            #expect(e.contains("nondeterministic") || e.contains("not deterministic"), "\(call): \(e)")
        }
        // decryptAES and buildCustomCert are deterministic.
        #expect(renderError(#"{{ decryptAES "k" "" }}"#) == "")
    }

    @Test func aesMatchesSprigsFormat() throws {
        // Produced with `openssl enc -aes-256-cbc -K <"secretkey" zero-padded to 32 bytes>
        // -iv 000102…0f` (PKCS#7, as Sprig pads), IV prepended, base64: Sprig's layout.
        let vector = "AAECAwQFBgcICQoLDA0OD+xEKx6daburGON6KXw2CmUZ0TIn0m+j4uULluGaPyg3"
        #expect(try render(#"{{ decryptAES "secretkey" "\#(vector)" }}"#) == "plaintext for sprig")
        #expect(try SprigKeys.encryptAES(password: "secretkey", plaintext: "plaintext for sprig", iv: Array(0..<16)) == vector)
        #expect(try render(#"{{ encryptAES "k3y" "round trip ✓" | decryptAES "k3y" }}"#, options: allowed) == "round trip ✓")
        #expect(try render(#"{{ encryptAES "k3y" "" }}"#, options: allowed) == "")
        let a = try render(#"{{ encryptAES "k3y" "same" }}"#, options: allowed), b = try render(#"{{ encryptAES "k3y" "same" }}"#, options: allowed)
        #expect(a != b && Base64.decode(a)?.count == 32, "a random IV each time, in front of one block")
        #expect(renderError(#"{{ decryptAES "k" "AAEC" }}"#).contains("slice bounds out of range"))
    }

    @Test func bcryptAndHtpasswd() throws {
        // crypt_blowfish's published vector.
        #expect(SprigKeys.bcryptMatches("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
        #expect(!SprigKeys.bcryptMatches("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
        let h = try render(#"{{ bcrypt "s3cret" }}"#, options: allowed)
        #expect(h.hasPrefix("$2a$10$") && h.utf8.count == 60, "\(h)")
        #expect(SprigKeys.bcryptMatches("s3cret", h) && !SprigKeys.bcryptMatches("s3cre", h))
        let line = try render(#"{{ htpasswd "admin" "pw" }}"#, options: allowed)
        #expect(line.hasPrefix("admin:$2a$10$") && SprigKeys.bcryptMatches("pw", String(line.dropFirst(6))), "\(line)")
        #expect(try render(#"{{ htpasswd "a:b" "pw" }}"#, options: allowed) == "invalid username: a:b")
        #expect(try render("{{ bcrypt \"\(String(repeating: "x", count: 73))\" }}", options: allowed) ==
                "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes")
        let r = try render("{{ randBytes 24 }}", options: allowed)
        let r2 = try render("{{ randBytes 24 }}", options: allowed)
        #expect(Base64.decode(r)?.count == 24 && r != r2)
    }

    @Test func buildCustomCertChecksItsInput() throws {
        let ca = try render(#"{{ $c := genCA "x" 1 }}{{ $c.Cert | b64enc }} {{ $c.Key | b64enc }}"#, options: allowed).split(separator: " ").map(String.init)
        let out = try render("{{ (buildCustomCert \"\(ca[0])\" \"\(ca[1])\").Cert | b64enc }}")
        #expect(out == ca[0])
        #expect(renderError("{{ buildCustomCert \"bm90IGEgY2VydA==\" \"\(ca[1])\" }}").contains("unable to decode certificate"))
        #expect(renderError("{{ buildCustomCert \"\(ca[0])\" \"bm9wZQ==\" }}").contains("error parsing private key"))
        #expect(renderError("{{ genSignedCert \"x\" nil nil 1 (dict) }}", options: allowed).contains("expected sprig.certificate"))
    }
}
