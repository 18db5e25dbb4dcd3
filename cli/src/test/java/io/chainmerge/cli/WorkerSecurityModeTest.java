package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code chainmerge worker} is secure by default: without TLS and capability keys it does not start. */
class WorkerSecurityModeTest {
    @TempDir
    Path volume;

    @Test
    void aWorkerWithoutTlsOrVerificationKeysExitsNonZeroNamingWhatIsMissing() {
        CliTest.Run run = CliTest.chainmerge(
                "worker",
                "--set",
                "pool=p",
                "--set",
                "volumes=" + volume,
                // Nothing listens here: the worker must stop before it tries Kafka.
                "--set",
                "kafka.bootstrap.servers=127.0.0.1:1");
        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err())
                .contains("tls.certificate, tls.key, tls.ca, transfer.verification-keys must be set")
                .contains("security.mode=insecure");
    }

    @Test
    void anUnknownSecurityModeIsRefused() {
        CliTest.Run run = CliTest.chainmerge(
                "worker",
                "--set",
                "pool=p",
                "--set",
                "volumes=" + volume,
                "--set",
                "security.mode=lenient",
                "--set",
                "kafka.bootstrap.servers=127.0.0.1:1");
        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("security.mode must be secure or insecure, not lenient");
    }
}
