package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The callers of the coordinator's API, read from the principals file ({@code security.principals-file},
 * docs/security.md). The file holds only each token's SHA-256; a token is found by hashing it and comparing
 * with every entry in constant time. The file is read again when it changes, so a token is added or
 * revoked without a restart; a changed file that is wrong is refused and the principals read before stay.
 */
final class Principals {
    private static final Logger LOG = LoggerFactory.getLogger(Principals.class);

    /** The principals file as written: {@code principals: [{name, roles, source, tokenSha256}, …]}. */
    record File(List<Entry> principals) {}

    /**
     * One principal in the file: a token's hash, a client certificate's name, or both.
     *
     * @param source the CloudEvent source a {@code backup-system} principal posts for; only with that role
     * @param tokenSha256 the SHA-256 of its token in hex, as {@code chainmerge token new} prints it
     * @param certificate the client certificate that names it: its subject ({@code CN=ops,O=Example}) or one of
     *     its subject alternative names ({@code DNS:}, {@code URI:}, {@code EMAIL:} or {@code IP:} and the name)
     */
    record Entry(String name, List<Role> roles, String source, String tokenSha256, String certificate) {}

    /** A caller the file names; {@code tokenSha256} is empty for a principal known by certificate only. */
    record Principal(String name, Set<Role> roles, String source, byte[] tokenSha256, CertificateName certificate) {
        Principal(String name, Set<Role> roles, String source, byte[] tokenSha256) {
            this(name, roles, source, tokenSha256, null);
        }

        String rolesText() {
            return roles.stream().map(Role::wireName).sorted().collect(Collectors.joining(","));
        }
    }

    private final Path file;
    private final JsonCodec json;
    private volatile List<Principal> principals;
    private volatile FileTime readModified;
    private volatile long readSize;

    private Principals(Path file, JsonCodec json, List<Principal> principals) {
        this.file = file;
        this.json = json;
        this.principals = principals;
    }

    /** No principals: insecure mode without a file. */
    static Principals none() {
        return new Principals(null, null, List.of());
    }

    /** Reads {@code file}; a {@link ConfigException} says what is wrong with it. */
    static Principals read(Path file, JsonCodec json) {
        Principals principals = new Principals(file, json, List.of());
        principals.principals = principals.load();
        return principals;
    }

    List<Principal> all() {
        return principals;
    }

    Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** The principal whose token this is. Compares with every entry, found or not, so timing tells nothing. */
    Optional<Principal> authenticate(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        byte[] hash = Tokens.sha256(token);
        Principal found = null;
        for (Principal principal : principals) {
            if (MessageDigest.isEqual(hash, principal.tokenSha256()) && found == null) {
                found = principal;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The principal a client certificate (verified by the TLS handshake against {@code tls.client-ca}) names;
     * empty when it names none, or more than one (the file is then ambiguous, and nobody is let in by it).
     */
    Optional<Principal> authenticate(X509Certificate certificate) {
        List<Principal> named = principals.stream()
                .filter(p -> p.certificate() != null && p.certificate().names(certificate))
                .toList();
        if (named.size() > 1) {
            LOG.error(
                    "the client certificate {} names several principals ({}); it is refused until the principals file "
                            + "tells them apart",
                    certificate.getSubjectX500Principal().getName(),
                    named.stream().map(Principal::name).toList());
            return Optional.empty();
        }
        return named.stream().findFirst();
    }

    /** The CloudEvent sources backup-system principals are bound to. */
    Set<String> boundSources() {
        return principals.stream()
                .map(Principal::source)
                .filter(s -> s != null)
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * Reads the file again if it changed since it was last read; returns whether the principals changed. A
     * wrong file is logged and changes nothing.
     */
    boolean reloadIfChanged() {
        if (file == null) {
            return false;
        }
        try {
            if (Files.getLastModifiedTime(file).equals(readModified) && Files.size(file) == readSize) {
                return false;
            }
        } catch (IOException e) {
            LOG.error("cannot look at the principals file {}; the principals read before stay: {}", file, e.toString());
            return false;
        }
        try {
            List<Principal> read = load();
            principals = read;
            LOG.info("principals file {} read again: {} principals", file, read.size());
            return true;
        } catch (ConfigException e) {
            LOG.error("the changed principals file is refused; the principals read before stay: {}", e.getMessage());
            return false;
        }
    }

    /**
     * Reads the file again whatever its modification time and size say (SIGHUP): a file that is wrong is refused,
     * logged at ERROR, and the principals read before stay.
     *
     * @return whether the principals in force now are the file's
     */
    boolean reload() {
        if (file == null) {
            return false;
        }
        try {
            List<Principal> read = load();
            principals = read;
            LOG.info("principals file {} read again: {} principals", file, read.size());
            return true;
        } catch (ConfigException e) {
            LOG.error("the principals file is refused; the principals read before stay: {}", e.getMessage());
            return false;
        }
    }

    private List<Principal> load() {
        String key = CoordinatorConfig.PRINCIPALS_FILE.name();
        File read;
        try {
            // Noted before reading: a file that turns out wrong is not read again (nor logged) until it changes.
            readModified = Files.getLastModifiedTime(file);
            readSize = Files.size(file);
            read = json.yaml().readValue(Files.readAllBytes(file), File.class);
        } catch (NoSuchFileException e) {
            throw new ConfigException(key, "names " + file + ", which does not exist");
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            throw new ConfigException(
                    key,
                    "names " + file + ", which is not a valid principals file: "
                            + cause.getMessage().lines().findFirst().orElse(""));
        }
        if (read == null || read.principals() == null || read.principals().isEmpty()) {
            throw new ConfigException(key, "names " + file + ", which lists no principals");
        }
        List<Principal> principals = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        Set<CertificateName> certificates = new HashSet<>();
        int index = 0;
        for (Entry entry : read.principals()) {
            index++;
            String where =
                    "principal " + index + (entry.name() == null ? "" : " (" + entry.name() + ")") + " in " + file;
            if (entry.name() == null || entry.name().isBlank()) {
                throw new ConfigException(key, where + " has no name");
            }
            if (!names.add(entry.name())) {
                throw new ConfigException(key, where + ": the name is used twice");
            }
            if (entry.roles() == null || entry.roles().isEmpty()) {
                throw new ConfigException(key, where + " has no roles");
            }
            CertificateName certificate = null;
            if (entry.certificate() != null) {
                try {
                    certificate = CertificateName.parse(entry.certificate());
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(key, where + ": " + e.getMessage());
                }
                if (!certificates.add(certificate)) {
                    throw new ConfigException(key, where + ": its certificate names another principal too");
                }
            }
            String hash = entry.tokenSha256() == null
                    ? ""
                    : entry.tokenSha256().strip().toLowerCase();
            if (certificate != null && hash.isEmpty()) {
                // Known by its certificate only: no token opens it.
            } else if (!hash.matches("[0-9a-f]{64}")) {
                throw new ConfigException(
                        key,
                        where + ": tokenSha256 must be 64 hex digits, the SHA-256 of the token "
                                + "(chainmerge token new prints it)"
                                + (entry.tokenSha256() == null
                                        ? ", or certificate: the client certificate's name"
                                        : ""));
            } else if (!hashes.add(hash)) {
                throw new ConfigException(key, where + ": its token is another principal's");
            }
            boolean backup = entry.roles().contains(Role.BACKUP_SYSTEM);
            String source = entry.source() == null || entry.source().isBlank()
                    ? null
                    : entry.source().strip();
            if (backup && source == null) {
                throw new ConfigException(key, where + ": a backup-system principal needs the source it posts for");
            }
            if (!backup && source != null) {
                throw new ConfigException(key, where + ": only a backup-system principal has a source");
            }
            principals.add(new Principal(
                    entry.name(),
                    Set.copyOf(entry.roles()),
                    source,
                    HexFormat.of().parseHex(hash),
                    certificate));
        }
        return List.copyOf(principals);
    }
}
