package io.chainmerge.worker;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.security.CapabilityVerifier;
import io.chainmerge.common.security.PemFiles;
import io.chainmerge.common.security.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;

/**
 * How a worker's HTTP server and its transfers are protected: TLS files, and the coordinator's public
 * keys that transfer capabilities must be signed with. {@code security.mode: secure} (the default)
 * refuses to start without all of them.
 */
public record TransferSecurity(Mode mode, TlsFiles tls, List<Path> verificationKeys) {
    public enum Mode {
        SECURE,
        INSECURE;

        static Mode parse(String text) {
            try {
                return valueOf(text.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(WorkerConfig.SECURITY_MODE.name(), "must be secure or insecure, not " + text);
            }
        }
    }

    public TransferSecurity {
        verificationKeys = List.copyOf(verificationKeys);
    }

    /** What secure mode misses, as the settings to give; empty when the worker may start. */
    List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (tls.certificate() == null) {
            missing.add(TlsFiles.CERTIFICATE.name());
        }
        if (tls.key() == null) {
            missing.add(TlsFiles.KEY.name());
        }
        if (tls.ca() == null) {
            missing.add(TlsFiles.CA.name());
        }
        if (verificationKeys.isEmpty()) {
            missing.add(WorkerConfig.TRANSFER_VERIFICATION_KEYS.name());
        }
        return missing;
    }

    /** Refuses a secure worker that lacks a setting; a worker started insecure is told so, loudly. */
    void checkCanStart(org.slf4j.Logger log) {
        List<String> missing = missing();
        if (mode == Mode.SECURE && !missing.isEmpty()) {
            throw new ConfigException(
                    String.join(", ", missing),
                    "must be set: security.mode is secure (the default), so the worker serves and pulls transplanted"
                            + " files only over TLS with transfer capabilities the coordinator signed; set them, or"
                            + " security.mode=insecure for a lab");
        }
        if (mode == Mode.INSECURE) {
            log.warn(
                    "SECURITY: security.mode=insecure: {}; anyone who reaches this worker's HTTP port can read what it"
                            + " serves in clear text. Never run a fleet like this.",
                    missing.isEmpty() ? "the settings are complete" : "started without " + String.join(", ", missing));
        }
    }

    CapabilityVerifier verifier(JsonCodec json, Clock clock) throws IOException {
        List<PublicKey> keys = new ArrayList<>();
        for (Path file : verificationKeys) {
            keys.add(PemFiles.verificationKey(file));
        }
        return new CapabilityVerifier(keys, clock, json);
    }

    /** The TLS context the worker's calls to other workers use: only {@code tls.ca} is trusted. */
    SSLContext clientContext() throws IOException {
        if (tls.ca() == null) {
            try {
                return SSLContext.getDefault();
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IOException(e);
            }
        }
        return PemFiles.trusting(tls.ca());
    }
}
