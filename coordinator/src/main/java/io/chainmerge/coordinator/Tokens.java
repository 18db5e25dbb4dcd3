package io.chainmerge.coordinator;

import io.chainmerge.common.json.JsonCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Bearer tokens of the coordinator's API: 256 random bits, and what the principals file keeps of them
 * (their SHA-256, in hex). A token of that entropy needs no salt or slow hash: nobody can guess one to
 * match a stolen hash.
 */
public final class Tokens {
    /** Marks a chainmerge token, so a leaked one is recognisable (e.g. by secret scanners). */
    public static final String PREFIX = "cmt_";

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {}

    public static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The SHA-256 of the token's UTF-8 bytes, 64 lower-case hex digits. */
    public static String sha256Hex(String token) {
        return HexFormat.of().formatHex(sha256(token));
    }

    /**
     * Adds a principal to the principals file (creating it), written whole to a new file that then replaces
     * the old, so a coordinator reading it again never sees half of it. Refuses a name already there and a
     * file that would not be valid.
     */
    public static void addPrincipal(
            Path principalsFile, String name, List<Role> roles, String source, String tokenSha256, JsonCodec json)
            throws IOException {
        List<Principals.Entry> entries = new ArrayList<>();
        if (Files.exists(principalsFile)) {
            Principals.File existing = json.yaml().readValue(principalsFile.toFile(), Principals.File.class);
            if (existing != null && existing.principals() != null) {
                entries.addAll(existing.principals());
            }
        }
        if (entries.stream().anyMatch(e -> name.equals(e.name()))) {
            throw new IllegalArgumentException(principalsFile + " has a principal " + name + " already");
        }
        entries.add(new Principals.Entry(name, List.copyOf(roles), source, tokenSha256, null));
        Path parent = principalsFile.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(parent, ".principals", ".yaml");
        try {
            json.yaml().writeValue(temporary.toFile(), new Principals.File(entries));
            Principals.read(temporary, json); // the same checks as the coordinator's
            Files.move(temporary, principalsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
