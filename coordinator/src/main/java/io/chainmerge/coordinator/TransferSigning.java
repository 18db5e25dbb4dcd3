package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.security.CapabilitySigner;
import io.chainmerge.common.security.PemFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's key for transfer capabilities ({@code transfer.signing-key}) and how long each one
 * lasts. Only the coordinator holds it; workers hold the public half.
 */
public record TransferSigning(Path key, Duration lifetime) {
    private static final Logger LOG = LoggerFactory.getLogger(TransferSigning.class);

    public TransferSigning {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new ConfigException(CoordinatorConfig.TRANSFER_CAPABILITY_LIFETIME.name(), "must be more than 0");
        }
    }

    /** The signer, read from the key file; empty (and said so) without one. */
    Optional<CapabilitySigner> signer(JsonCodec json) throws IOException {
        if (key == null) {
            LOG.warn("SECURITY: no transfer.signing-key: transplants between workers are published without a transfer"
                    + " capability, and the workers refuse them");
            return Optional.empty();
        }
        return Optional.of(new CapabilitySigner(PemFiles.signingKey(key), lifetime, Clock.systemUTC(), json));
    }
}
