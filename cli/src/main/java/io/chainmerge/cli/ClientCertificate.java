package io.chainmerge.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The CLI's client certificate for a coordinator that takes them ({@code tls.client-ca}): the PEM certificate
 * chain and private key of {@code --cert} and {@code --key}, presented in the TLS handshake instead of a token.
 */
final class ClientCertificate {
    private ClientCertificate() {}

    /**
     * A TLS context that presents {@code certificate} with {@code key}, and trusts {@code caBundle}'s CAs (or the
     * system's, when null) for the coordinator's own certificate.
     */
    static SSLContext context(Path certificate, Path key, Path caBundle) throws IOException {
        try {
            Collection<? extends Certificate> chain;
            try (var in = new ByteArrayInputStream(Files.readAllBytes(certificate))) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("--cert " + certificate + " holds no PEM certificate");
            }
            KeyStore identity = KeyStore.getInstance("PKCS12");
            identity.load(null, null);
            char[] none = new char[0];
            identity.setKeyEntry("client", privateKey(key), none, chain.toArray(Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(identity, none);
            TrustManagerFactory trust = null;
            if (caBundle != null) {
                KeyStore cas = KeyStore.getInstance(KeyStore.getDefaultType());
                cas.load(null, null);
                int index = 0;
                try (var in = new ByteArrayInputStream(Files.readAllBytes(caBundle))) {
                    for (Certificate ca :
                            CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        cas.setCertificateEntry("ca-" + index++, ca);
                    }
                }
                if (index == 0) {
                    throw new IllegalArgumentException("--cacert " + caBundle + " holds no PEM certificate");
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(cas);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(e.getFile() + " does not exist", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "--cert " + certificate + " and --key " + key + " are not a usable certificate and key: "
                            + e.getMessage(),
                    e);
        }
    }

    /** A PEM private key as OpenSSL writes them: PKCS#8 ({@code PRIVATE KEY}) or PKCS#1/SEC 1 key pairs. */
    private static PrivateKey privateKey(Path key) throws IOException {
        Object read;
        try (Reader reader = Files.newBufferedReader(key);
                PEMParser parser = new PEMParser(reader)) {
            read = parser.readObject();
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        if (read instanceof PrivateKeyInfo info) {
            return converter.getPrivateKey(info);
        }
        if (read instanceof PEMKeyPair pair) {
            return converter.getKeyPair(pair).getPrivate();
        }
        throw new IllegalArgumentException(
                "--key " + key + " holds no unencrypted PEM private key (PKCS#8 or PKCS#1/SEC 1)");
    }
}
