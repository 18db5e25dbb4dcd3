package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's API over TLS, with a certificate of a throwaway CA (the demo's): the CLI reaches it
 * with {@code --cacert}, refuses it without (its certificate is not one the system trusts), and plain
 * HTTP to the TLS port gets no answer.
 */
class CoordinatorTlsIT {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static ThrowawayPki pki;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        pki = ThrowawayPki.create(dir.resolve("pki"));
        ThrowawayPki.Issued tls = pki.issue("coordinator");
        coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.replication",
                1,
                "tls.certificate",
                tls.certificate().toString(),
                "tls.key",
                tls.key().toString(),
                "security.principals-file",
                TestPrincipals.file().toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())));
    }

    @AfterAll
    static void stop() {
        if (coordinator != null) {
            coordinator.close();
        }
        kafka.close();
    }

    private static String api() {
        return "https://127.0.0.1:" + coordinator.httpPort();
    }

    @Test
    void theCliReachesATlsCoordinatorWithTheCaItIsGiven() throws IOException {
        CliTest.Run run = CliTest.chainmerge(
                "campaign",
                "--coordinator",
                api(),
                "--cacert",
                pki.caBundle(),
                "--token-file",
                TestPrincipals.adminTokenFile(),
                "list",
                "--json");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.json().isArray()).isTrue();
    }

    @Test
    void withoutTheCaTheCliDoesNotTrustTheCoordinator() {
        CliTest.Run run = CliTest.chainmerge("campaign", "--coordinator", api(), "list");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("does not trust").contains("--cacert");
    }

    @Test
    void aCacertThatIsNoCaBundleIsAClearError() {
        CliTest.Run run =
                CliTest.chainmerge("campaign", "--coordinator", api(), "--cacert", dir.resolve("missing.pem"), "list");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("--cacert").contains("missing.pem");
    }

    @Test
    void plainHttpToTheTlsPortIsRefused() throws Exception {
        HttpClient plain =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String url = "http://127.0.0.1:" + coordinator.httpPort() + "/v1/campaigns";
        assertThatThrownBy(() -> plain.send(
                        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        CliTest.Run run = CliTest.chainmerge(
                "campaign", "--coordinator", url.replace("/v1/campaigns", ""), "--cacert", pki.caBundle(), "list");
        assertThat(run.exit()).isNotZero();
    }
}
