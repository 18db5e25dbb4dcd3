package io.chainmerge.common.security;

import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;

/**
 * The coordinator's half of transfer capabilities: signs, with its Ed25519 key ({@code
 * transfer.signing-key}), what one cross-worker transplant job may do on its source worker. The token
 * is {@code cm1.<payload>.<signature>}, both parts base64url without padding; the signature covers
 * {@code cm1.<payload>}.
 */
public final class CapabilitySigner {
    static final String PREFIX = "cm1.";

    private final PrivateKey key;
    private final Duration lifetime;
    private final Clock clock;
    private final JsonCodec json;

    public CapabilitySigner(PrivateKey key, Duration lifetime, Clock clock, JsonCodec json) {
        if (!PemFiles.ALGORITHM.equalsIgnoreCase(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("the signing key must be Ed25519, not " + key.getAlgorithm());
        }
        this.key = key;
        this.lifetime = lifetime;
        this.clock = clock;
        this.json = json;
    }

    /** The capability of {@code job}, which pulls from another worker (it has a source). */
    public TransferCapability capabilityOf(TransplantJob job) {
        if (job.source() == null) {
            throw new IllegalArgumentException(
                    "the job " + job.jobId() + " moves files on one worker: it needs no capability");
        }
        return new TransferCapability(
                TransferCapability.VERSION,
                job.jobId(),
                job.source().worker(),
                job.source().url(),
                job.disks(),
                job.mode() == TransplantMode.MOVE,
                clock.instant().plus(lifetime));
    }

    /** The job with a fresh capability (any earlier one replaced), as it is published. */
    public TransplantJob sign(TransplantJob job) {
        return job.withCapability(encode(capabilityOf(job)));
    }

    public String encode(TransferCapability capability) {
        String signed = PREFIX
                + Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString(json.write(capability).getBytes(StandardCharsets.UTF_8));
        try {
            Signature signature = Signature.getInstance(PemFiles.ALGORITHM);
            signature.initSign(key);
            signature.update(signed.getBytes(StandardCharsets.US_ASCII));
            return signed + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the Ed25519 key: " + e.getMessage(), e);
        }
    }
}
