package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.security.TlsFiles;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;

/**
 * How the API's bearer tokens travel, decided before anything starts (docs/security.md#secure-by-default). A
 * secure coordinator speaks TLS, or plain HTTP only where no token crosses a network (an API bound to loopback)
 * or where the operator said, with {@code http.plaintext: allow}, that it should.
 */
public enum HttpTransport {
    /** {@code tls.certificate} and {@code tls.key}: HTTPS only. */
    TLS,
    /** Plain HTTP on a loopback address: tokens never leave this host. */
    PLAIN_LOOPBACK,
    /** Plain HTTP on a network, because {@code http.plaintext: allow} says so: tokens cross it in the clear. */
    PLAIN_ALLOWED,
    /** Plain HTTP in {@code security.mode: insecure}, where nobody needs a token anyway. */
    PLAIN_INSECURE_MODE;

    /** {@code http.plaintext}: refuse (the default) or allow. */
    static boolean allows(String plaintext) {
        return switch (plaintext.strip().toLowerCase(Locale.ROOT)) {
            case "refuse" -> false;
            case "allow" -> true;
            default ->
                throw new ConfigException(
                        CoordinatorConfig.HTTP_PLAINTEXT.name(), "is refuse or allow, not \"" + plaintext + "\"");
        };
    }

    /**
     * @throws ConfigException naming the settings when a secure coordinator would take tokens in the clear over a
     *     network
     */
    static HttpTransport of(TlsFiles tls, boolean insecure, String host, boolean allow) {
        if (tls.serves()) {
            return TLS;
        }
        if (insecure) {
            return PLAIN_INSECURE_MODE;
        }
        if (loopback(host)) {
            return PLAIN_LOOPBACK;
        }
        if (allow) {
            return PLAIN_ALLOWED;
        }
        throw new ConfigException(
                TlsFiles.CERTIFICATE.name(),
                "and " + TlsFiles.KEY.name() + " are required: security.mode is secure (the default) and the API "
                        + "listens on " + host + " (" + CoordinatorConfig.HTTP_HOST.name() + "), so bearer tokens "
                        + "would cross the network in the clear. Give the API a certificate and key, or set "
                        + CoordinatorConfig.HTTP_HOST.name() + ": 127.0.0.1 to keep it on this host, or set "
                        + CoordinatorConfig.HTTP_PLAINTEXT.name() + ": allow to serve tokens in the clear "
                        + "anyway (unsafe; docs/security.md#secure-by-default)");
    }

    /** Every address the host names is a loopback address; a name that does not resolve is not loopback. */
    static boolean loopback(String host) {
        if (host == null || host.isBlank()) {
            return false;
        }
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host.strip());
            return addresses.length > 0 && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
