package io.chainmerge.coordinator;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.security.auth.x500.X500Principal;

/**
 * How a principals-file entry names a client certificate: by its subject's distinguished name ({@code CN=ops,
 * O=Example}, compared in X.500's canonical form, so spacing and case of the attribute names do not matter),
 * or by one subject alternative name: {@code DNS:host}, {@code URI:spiffe://…}, {@code EMAIL:a@b} or {@code
 * IP:10.0.0.1}. The certificate itself is verified by the TLS handshake against {@code tls.client-ca}; this
 * only says whose it is.
 *
 * @param kind -1 for the subject, else the GeneralName tag of RFC 5280 section 4.2.1.6 (1 rfc822Name, 2 dNSName,
 *     6 uniformResourceIdentifier, 7 iPAddress)
 */
record CertificateName(int kind, String value) {
    private static final int SUBJECT = -1;
    private static final List<String> PREFIXES = List.of("EMAIL:", "DNS:", "URI:", "IP:");
    private static final int[] TAGS = {1, 2, 6, 7};

    static CertificateName parse(String text) {
        String name = text == null ? "" : text.strip();
        if (name.isEmpty()) {
            throw new IllegalArgumentException(
                    "certificate is empty: name the subject (CN=...) or DNS:, URI:, EMAIL:, IP:");
        }
        for (int i = 0; i < PREFIXES.size(); i++) {
            String prefix = PREFIXES.get(i);
            if (name.regionMatches(true, 0, prefix, 0, prefix.length())) {
                String value = name.substring(prefix.length()).strip();
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("certificate " + name + " names nothing after " + prefix);
                }
                if (TAGS[i] == 7) {
                    value = ipAddress(value);
                } else if (TAGS[i] == 2 || TAGS[i] == 1) {
                    value = value.toLowerCase(Locale.ROOT);
                }
                return new CertificateName(TAGS[i], value);
            }
        }
        try {
            return new CertificateName(SUBJECT, new X500Principal(name).getName(X500Principal.CANONICAL));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("certificate " + name
                    + " is neither a distinguished name (CN=...) nor DNS:, URI:, EMAIL:, IP: and a " + "name");
        }
    }

    /** Whether {@code certificate}'s subject, or one of its alternative names, is this name. */
    boolean names(X509Certificate certificate) {
        if (kind == SUBJECT) {
            return certificate
                    .getSubjectX500Principal()
                    .getName(X500Principal.CANONICAL)
                    .equals(value);
        }
        Collection<List<?>> alternatives;
        try {
            alternatives = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return false;
        }
        if (alternatives == null) {
            return false;
        }
        for (List<?> alternative : alternatives) {
            if (alternative.size() < 2 || !(alternative.get(0) instanceof Integer tag) || tag != kind) {
                continue;
            }
            String presented = String.valueOf(alternative.get(1));
            boolean same =
                    switch (kind) {
                        case 1, 2 -> presented.toLowerCase(Locale.ROOT).equals(value);
                        case 7 -> sameAddress(presented);
                        default -> presented.equals(value);
                    };
            if (same) {
                return true;
            }
        }
        return false;
    }

    private boolean sameAddress(String presented) {
        try {
            return ipAddress(presented).equals(value);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** An IP address in one spelling, so {@code ::1} and {@code 0:0:0:0:0:0:0:1} are the same name. */
    private static String ipAddress(String literal) {
        boolean literalOnly =
                literal.matches("\\d{1,3}(\\.\\d{1,3}){3}") || literal.matches("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
        if (!literalOnly) {
            throw new IllegalArgumentException("certificate IP:" + literal + " is not an IP address");
        }
        try {
            // A literal of digits, dots and colons only: parsed, never looked up.
            return InetAddress.getByName(literal).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("certificate IP:" + literal + " is not an IP address");
        }
    }

    @Override
    public String toString() {
        return kind == SUBJECT ? value : PREFIXES.get(indexOf(kind)) + value;
    }

    private static int indexOf(int tag) {
        for (int i = 0; i < TAGS.length; i++) {
            if (TAGS[i] == tag) {
                return i;
            }
        }
        return -1;
    }
}
