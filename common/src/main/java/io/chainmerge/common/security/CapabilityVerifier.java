package io.chainmerge.common.security;

import io.chainmerge.common.json.JsonCodec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The workers' half of transfer capabilities: a token opens something only when one of the trusted
 * Ed25519 keys ({@code transfer.verification-keys}; several, so a new coordinator key can be rolled out
 * before the coordinator signs with it) verifies its signature and it has not expired. What it opens
 * is then checked against each request ({@link TransferCapability}'s {@code require} methods).
 */
public final class CapabilityVerifier {
    private static final int MAX_TOKEN = 64 * 1024;
    private static final int SIGNATURE_BYTES = 64;

    private final List<PublicKey> keys;
    private final Clock clock;
    private final JsonCodec json;

    public CapabilityVerifier(List<PublicKey> keys, Clock clock, JsonCodec json) {
        this.keys = List.copyOf(keys);
        this.clock = clock;
        this.json = json;
    }

    public TransferCapability verify(String token) {
        if (token == null || token.isEmpty()) {
            throw CapabilityException.missing("no transfer capability was presented");
        }
        if (keys.isEmpty()) {
            throw new CapabilityException(
                    "this worker has no transfer.verification-keys: it trusts no transfer capability");
        }
        if (token.length() > MAX_TOKEN || !token.startsWith(CapabilitySigner.PREFIX)) {
            throw new CapabilityException("the transfer capability is not a chainmerge capability (cm1.)");
        }
        int dot = token.lastIndexOf('.');
        if (dot <= CapabilitySigner.PREFIX.length()) {
            throw new CapabilityException("the transfer capability has no signature");
        }
        String signed = token.substring(0, dot);
        byte[] payload = canonical(signed.substring(CapabilitySigner.PREFIX.length()));
        byte[] signature = canonical(token.substring(dot + 1));
        if (signature.length != SIGNATURE_BYTES) {
            // An Ed25519 signature is exactly 64 bytes; a longer one with trailing bytes must not pass.
            throw new CapabilityException("the transfer capability's signature is not " + SIGNATURE_BYTES + " bytes");
        }
        if (!signedByTrustedKey(signed.getBytes(StandardCharsets.US_ASCII), signature)) {
            throw new CapabilityException("the transfer capability is not signed by a key this worker trusts");
        }
        TransferCapability capability;
        try {
            capability = json.mapper().readValue(payload, TransferCapability.class);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new CapabilityException("the transfer capability's payload is malformed: " + e.getMessage());
        }
        if (!clock.instant().isBefore(capability.expiresAt())) {
            throw new CapabilityException("the transfer capability of the job %s expired at %s"
                    .formatted(capability.jobId(), capability.expiresAt()));
        }
        return capability;
    }

    private boolean signedByTrustedKey(byte[] signed, byte[] signature) {
        for (PublicKey key : keys) {
            try {
                Signature verifier = Signature.getInstance(PemFiles.ALGORITHM);
                verifier.initVerify(key);
                verifier.update(signed);
                if (verifier.verify(signature)) {
                    return true;
                }
            } catch (GeneralSecurityException e) {
                // a signature of the wrong length or form: not signed by this key
            }
        }
        return false;
    }

    /**
     * Base64url without padding, accepted only in its one canonical spelling: a decoder ignores the
     * spare bits of the last character, so two spellings of one signature would both verify.
     */
    private static byte[] canonical(String text) {
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new CapabilityException("the transfer capability is not base64url: " + e.getMessage());
        }
        if (!Arrays.equals(
                Base64.getUrlEncoder().withoutPadding().encode(bytes), text.getBytes(StandardCharsets.US_ASCII))) {
            throw new CapabilityException("the transfer capability is not in canonical base64url");
        }
        return bytes;
    }
}
