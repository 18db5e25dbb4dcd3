package io.chainmerge.common.security;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.config.ConfigKey;
import io.chainmerge.common.config.ConfigType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PEM files of a daemon's TLS: its certificate chain and private key (what its HTTP server
 * presents) and the CA bundle it trusts when it calls another daemon. Absent files mean plain HTTP.
 */
public record TlsFiles(Path certificate, Path key, Path ca) {
    public static final ConfigKey CERTIFICATE = ConfigKey.optional(
            "tls.certificate",
            ConfigType.STRING,
            "",
            "PEM certificate chain the HTTP server presents; with tls.key, the server speaks only HTTPS; re-read when the file changes and on SIGHUP");
    public static final ConfigKey KEY = ConfigKey.optional(
            "tls.key",
            ConfigType.STRING,
            "",
            "PEM private key (PKCS#8 or PKCS#1) of tls.certificate; re-read when the file changes and on SIGHUP");
    public static final ConfigKey CA = ConfigKey.optional(
            "tls.ca",
            ConfigType.STRING,
            "",
            "PEM bundle of the CA certificates this daemon trusts when it calls another one over HTTPS");

    public static TlsFiles of(String certificate, String key, String ca) {
        if (certificate.isBlank() != key.isBlank()) {
            throw new ConfigException(
                    certificate.isBlank() ? CERTIFICATE.name() : KEY.name(),
                    "is needed with " + (certificate.isBlank() ? KEY.name() : CERTIFICATE.name()));
        }
        return new TlsFiles(
                certificate.isBlank() ? null : Path.of(certificate),
                key.isBlank() ? null : Path.of(key),
                ca.isBlank() ? null : Path.of(ca));
    }

    /** The server presents a certificate: HTTPS only. */
    public boolean serves() {
        return certificate != null && key != null;
    }

    /** Calls to other daemons verify them against {@link #ca()}. */
    public boolean trusts() {
        return ca != null;
    }

    /**
     * What the files are now (modification times and sizes): when it changes, the server reloads them.
     * A file that cannot be read counts as a change that the reload then reports.
     */
    public List<Object> version() {
        List<Object> version = new ArrayList<>();
        for (Path file : new Path[] {certificate, key}) {
            if (file == null) {
                continue;
            }
            try {
                version.add(Files.getLastModifiedTime(file).toMillis());
                version.add(Files.size(file));
            } catch (IOException e) {
                version.add(e.toString());
            }
        }
        return version;
    }
}
