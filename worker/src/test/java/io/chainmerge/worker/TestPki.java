package io.chainmerge.worker;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.security.CapabilitySigner;
import io.chainmerge.common.security.PemFiles;
import io.chainmerge.common.security.ThrowawayPki;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** What the worker's tests need beyond {@link ThrowawayPki}: jobs signed as the coordinator signs them, a TLS server. */
final class TestPki {
    private TestPki() {}

    /** The job as the coordinator publishes it: with a capability signed by {@code signingKey}. */
    static TransplantJob signed(TransplantJob job, Path signingKey, Duration lifetime) throws IOException {
        return new CapabilitySigner(PemFiles.signingKey(signingKey), lifetime, Clock.systemUTC(), new JsonCodec())
                .sign(job);
    }

    /**
     * A TLS context that presents {@code issued} (for a test server in front of a worker); the JDK reads
     * the PKCS#8 key and the certificate chain as they are.
     */
    static SSLContext serverContext(ThrowawayPki.Issued issued) throws IOException {
        try {
            String keyPem = Files.readString(issued.key());
            byte[] der = Base64.getMimeDecoder().decode(keyPem.replaceAll("-----[A-Z ]+-----", ""));
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
            Certificate[] chain;
            try (InputStream in = Files.newInputStream(issued.certificate())) {
                chain = CertificateFactory.getInstance("X.509")
                        .generateCertificates(in)
                        .toArray(Certificate[]::new);
            }
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, new char[0], chain);
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }
}
