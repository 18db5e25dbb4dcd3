package io.chainmerge.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapabilityTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    private final JsonCodec json = new JsonCodec();
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final KeyPair coordinator = keyPair();
    private final KeyPair other = keyPair();

    private static KeyPair keyPair() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static TransplantJob job(String id, TransplantMode mode) {
        return new TransplantJob(
                Schema.VERSION,
                id,
                "c-1",
                "pool-b",
                NOW,
                "/vol/a/root.vhdx",
                List.of("/vol/a/child.avhdx", "/vol/a/root.vhdx"),
                "/vol/b",
                new TransplantSource("pool-a", "storage-a", "https://storage-a:8081"),
                mode,
                0,
                0,
                null);
    }

    private String sign(TransplantJob job, Duration lifetime) {
        return new CapabilitySigner(coordinator.getPrivate(), lifetime, clock, json)
                .sign(job)
                .capability();
    }

    private CapabilityVerifier verifier(KeyPair... trusted) {
        return new CapabilityVerifier(
                java.util.Arrays.stream(trusted).map(KeyPair::getPublic).toList(), clock, json);
    }

    @Test
    void aSignedCapabilityOpensExactlyTheJobsFilesOnTheSourceWorker() {
        TransferCapability capability =
                verifier(coordinator).verify(sign(job("j-1", TransplantMode.MOVE), Duration.ofMinutes(5)));
        assertEquals("j-1", capability.jobId());
        assertEquals("storage-a", capability.sourceWorker());
        assertEquals("https://storage-a:8081", capability.sourceUrl());
        assertEquals(NOW.plus(Duration.ofMinutes(5)), capability.expiresAt());
        capability.requireJob("j-1");
        capability.requireSourceWorker("storage-a");
        capability.requireFile("/vol/a/child.avhdx");
        capability.requireFile("/vol/a/./root.vhdx");
        capability.requireDelete("/vol/a/root.vhdx");
        assertThrows(CapabilityException.class, () -> capability.requireJob("j-2"));
        assertThrows(CapabilityException.class, () -> capability.requireSourceWorker("storage-b"));
        assertThrows(CapabilityException.class, () -> capability.requireFile("/vol/a/other.vhdx"));
        assertThrows(CapabilityException.class, () -> capability.requireFile("/vol/a/../a/../etc/passwd"));
        assertThrows(CapabilityException.class, () -> capability.requireDelete("/vol/a/other.vhdx"));
    }

    @Test
    void aCopysCapabilityDeletesNothing() {
        TransferCapability capability =
                verifier(coordinator).verify(sign(job("j-1", TransplantMode.COPY), Duration.ofMinutes(5)));
        capability.requireFile("/vol/a/root.vhdx");
        assertThrows(CapabilityException.class, () -> capability.requireDelete("/vol/a/root.vhdx"));
    }

    @Test
    void tamperingWithAnyCharacterOfTheTokenIsRejected() {
        String token = sign(job("j-1", TransplantMode.MOVE), Duration.ofMinutes(5));
        CapabilityVerifier verifier = verifier(coordinator);
        verifier.verify(token);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for (int i = 0; i < token.length(); i++) {
            for (char replacement : new char[] {
                alphabet.charAt((alphabet.indexOf(token.charAt(i)) + 1) % alphabet.length()),
                alphabet.charAt((alphabet.indexOf(token.charAt(i)) + 17) % alphabet.length())
            }) {
                String tampered = token.substring(0, i) + replacement + token.substring(i + 1);
                try {
                    verifier.verify(tampered);
                    fail("a token changed at character " + i + " was accepted");
                } catch (CapabilityException expected) {
                    // refused, as it must be
                }
            }
        }
        assertThrows(CapabilityException.class, () -> verifier.verify(token.substring(0, token.length() - 1)));
        assertThrows(CapabilityException.class, () -> verifier.verify(token + "A"));
    }

    @Test
    void aPayloadRewrittenWithTheSameSignatureIsRejected() {
        String token = sign(job("j-1", TransplantMode.COPY), Duration.ofMinutes(5));
        String[] parts = token.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"mayDelete\":false", "\"mayDelete\":true");
        String forged = "cm1."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "."
                + parts[2];
        assertThrows(CapabilityException.class, () -> verifier(coordinator).verify(forged));
    }

    @Test
    void aCapabilitySignedByAnUntrustedKeyIsRejected() {
        String token = sign(job("j-1", TransplantMode.MOVE), Duration.ofMinutes(5));
        CapabilityException refused =
                assertThrows(CapabilityException.class, () -> verifier(other).verify(token));
        assertTrue(refused.getMessage().contains("not signed by a key this worker trusts"), refused.getMessage());
        assertThrows(CapabilityException.class, () -> verifier().verify(token));
    }

    @Test
    void severalTrustedKeysLetANewSigningKeyRollOutFirst() {
        String token = sign(job("j-1", TransplantMode.MOVE), Duration.ofMinutes(5));
        assertEquals("j-1", verifier(other, coordinator).verify(token).jobId());
    }

    @Test
    void anExpiredCapabilityIsRejected() {
        String token = sign(job("j-1", TransplantMode.MOVE), Duration.ofMinutes(5));
        CapabilityVerifier later = new CapabilityVerifier(
                List.of(coordinator.getPublic()), Clock.fixed(NOW.plus(Duration.ofMinutes(5)), ZoneOffset.UTC), json);
        CapabilityException refused = assertThrows(CapabilityException.class, () -> later.verify(token));
        assertTrue(refused.getMessage().contains("expired"), refused.getMessage());
    }

    @Test
    void noTokenIsMissingRatherThanWrong() {
        assertTrue(assertThrows(
                        CapabilityException.class, () -> verifier(coordinator).verify(null))
                .missing());
        assertTrue(!assertThrows(
                        CapabilityException.class, () -> verifier(coordinator).verify("cm1.x.y"))
                .missing());
    }

    @Test
    void keysAreReadFromThePemFilesOpensslWrites(@TempDir Path dir) throws Exception {
        Path privatePem = Files.writeString(
                dir.resolve("signing.pem"),
                PemFiles.pem("PRIVATE KEY", coordinator.getPrivate().getEncoded()));
        Path publicPem = Files.writeString(
                dir.resolve("verify.pem"),
                PemFiles.pem("PUBLIC KEY", coordinator.getPublic().getEncoded()));
        String token = new CapabilitySigner(PemFiles.signingKey(privatePem), Duration.ofMinutes(1), clock, json)
                .encode(new CapabilitySigner(coordinator.getPrivate(), Duration.ofMinutes(1), clock, json)
                        .capabilityOf(job("j-9", TransplantMode.COPY)));
        assertEquals(
                "j-9",
                new CapabilityVerifier(List.of(PemFiles.verificationKey(publicPem)), clock, json)
                        .verify(token)
                        .jobId());
        assertThrows(java.io.IOException.class, () -> PemFiles.signingKey(publicPem));
    }
}
