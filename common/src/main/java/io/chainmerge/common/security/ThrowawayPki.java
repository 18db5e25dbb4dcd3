package io.chainmerge.common.security;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Throwaway security for the demo and the tests, written into a folder: a CA (its certificate in {@code ca.pem}),
 * a certificate and key per daemon for {@code localhost} and {@code 127.0.0.1}, and the coordinator's
 * Ed25519 key pair for transfer capabilities. Private keys are readable by their owner only. Nothing
 * here is for a real fleet, whose certificates come from the site's CA. Needs BouncyCastle ({@code
 * bcpkix-jdk18on}) on the class path, an optional dependency of this module: the launcher has it, the
 * daemons do not.
 */
public final class ThrowawayPki {
    private static final Duration VALIDITY = Duration.ofDays(30);

    private final Path dir;
    private final KeyPair ca;
    private final X509Certificate caCertificate;
    private final SecureRandom random = new SecureRandom();

    /** A certificate and its key, as PEM files. */
    public record Issued(Path certificate, Path key) {}

    /** The coordinator's signing key and the public half the workers verify with. */
    public record CapabilityKeys(Path signingKey, Path verificationKey) {}

    private ThrowawayPki(Path dir, KeyPair ca, X509Certificate caCertificate) {
        this.dir = dir;
        this.ca = ca;
        this.caCertificate = caCertificate;
    }

    public static ThrowawayPki create(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            KeyPair ca = ecKeyPair();
            X500Name name = new X500Name("CN=chainmerge demo CA");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            name,
                            BigInteger.valueOf(now.toEpochMilli()),
                            Date.from(now.minus(Duration.ofMinutes(5))),
                            Date.from(now.plus(VALIDITY)),
                            name,
                            ca.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier,
                            false,
                            new JcaX509ExtensionUtils().createSubjectKeyIdentifier(ca.getPublic()));
            X509Certificate certificate = sign(builder, ca);
            Files.writeString(dir.resolve("ca.pem"), PemFiles.pem("CERTIFICATE", certificate.getEncoded()));
            return new ThrowawayPki(dir, ca, certificate);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the demo's CA: " + e.getMessage(), e);
        }
    }

    /** The CA bundle every daemon and the CLI trust. */
    public Path caBundle() {
        return dir.resolve("ca.pem");
    }

    /** A server certificate for {@code name}, valid for localhost and 127.0.0.1. */
    public Issued issue(String name) throws IOException {
        return issue(name, List.of("localhost"), true);
    }

    /**
     * A client certificate (for TLS client authentication only) whose subject is {@code CN=name} and whose
     * subject alternative names are {@code dnsNames}: a caller of a coordinator that takes client certificates.
     */
    public Issued issueClient(String name, List<String> dnsNames) throws IOException {
        return issue(name, dnsNames, false);
    }

    private Issued issue(String name, List<String> dnsNames, boolean server) throws IOException {
        try {
            KeyPair keys = ecKeyPair();
            Instant now = Instant.now();
            List<GeneralName> names = new ArrayList<>();
            for (String dns : dnsNames) {
                names.add(new GeneralName(GeneralName.dNSName, dns));
            }
            if (server) {
                names.add(new GeneralName(
                        GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress()));
            }
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                            caCertificate,
                            new BigInteger(64, random),
                            Date.from(now.minus(Duration.ofMinutes(5))),
                            Date.from(now.plus(VALIDITY)),
                            new X500Name("CN=" + name),
                            keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(
                            Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                    .addExtension(
                            Extension.extendedKeyUsage,
                            false,
                            new ExtendedKeyUsage(
                                    server
                                            ? new KeyPurposeId[] {
                                                KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                                            }
                                            : new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth}));
            if (!names.isEmpty()) {
                builder.addExtension(
                        Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            X509Certificate certificate = sign(builder, ca);
            Path cert = Files.writeString(
                    dir.resolve(name + ".crt"),
                    PemFiles.pem("CERTIFICATE", certificate.getEncoded())
                            + PemFiles.pem("CERTIFICATE", caCertificate.getEncoded()));
            return new Issued(
                    cert, writePrivate(name + ".key", keys.getPrivate().getEncoded()));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the demo's certificate for " + name + ": " + e.getMessage(), e);
        }
    }

    /** A fresh Ed25519 key pair for transfer capabilities, as {@code openssl genpkey -algorithm ed25519} makes. */
    public CapabilityKeys capabilityKeys(String name) throws IOException {
        try {
            KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            Path signing = writePrivate(name + "-signing.pem", keys.getPrivate().getEncoded());
            Path verification = Files.writeString(
                    dir.resolve(name + "-verification.pem"),
                    PemFiles.pem("PUBLIC KEY", keys.getPublic().getEncoded()));
            return new CapabilityKeys(signing, verification);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make an Ed25519 key pair: " + e.getMessage(), e);
        }
    }

    private Path writePrivate(String file, byte[] pkcs8) throws IOException {
        Path path = dir.resolve(file);
        Files.deleteIfExists(path);
        Files.createFile(path);
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the folder's own permissions are all there is
        }
        return Files.writeString(path, PemFiles.pem("PRIVATE KEY", pkcs8));
    }

    private static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter()
                .getCertificate(
                        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }
}
