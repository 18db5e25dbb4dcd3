package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.coordinator.Tokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Principals named by client certificate (mTLS) on a coordinator with {@code tls.client-ca}: the CLI's
 * {@code --cert} and {@code --key} call as the principal the certificate names, with that principal's roles;
 * a certificate of another CA, or one the principals file does not name, opens nothing; tokens still work.
 */
class ClientCertificateIT {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static ThrowawayPki pki;
    static ThrowawayPki.Issued ops;
    static ThrowawayPki.Issued grafana;
    static ThrowawayPki.Issued stranger;
    static ThrowawayPki.Issued otherCa;
    static Path adminToken;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        pki = ThrowawayPki.create(dir.resolve("pki"));
        ops = pki.issueClient("ops", List.of());
        grafana = pki.issueClient("monitoring", List.of("grafana.example"));
        stranger = pki.issueClient("stranger", List.of());
        otherCa = ThrowawayPki.create(dir.resolve("other-pki")).issueClient("ops", List.of());
        String admin = Tokens.newToken();
        adminToken = Files.writeString(dir.resolve("admin.token"), admin + "\n");
        Path principals = Files.writeString(
                dir.resolve("principals.yaml"),
                """
                principals:
                  - name: ops
                    roles: [operator]
                    certificate: "cn=ops"
                  - name: grafana
                    roles: [viewer]
                    certificate: "DNS:Grafana.example"
                  - name: admin
                    roles: [admin]
                    tokenSha256: %s
                """
                        .formatted(Tokens.sha256Hex(admin)));
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
                "tls.client-ca",
                pki.caBundle().toString(),
                "security.principals-file",
                principals.toString(),
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

    private static CliTest.Run as(ThrowawayPki.Issued who, Object... command) {
        List<Object> args = new java.util.ArrayList<>(List.of(
                "campaign",
                "--coordinator",
                "https://127.0.0.1:" + coordinator.httpPort(),
                "--cacert",
                pki.caBundle(),
                "--cert",
                who.certificate(),
                "--key",
                who.key()));
        args.addAll(List.of(command));
        return CliTest.chainmerge(args.toArray());
    }

    @Test
    void aCertificateNamedBySubjectCallsWithItsPrincipalsRolesAndTheReportSaysWho() throws Exception {
        Path spec = Files.writeString(
                dir.resolve("spec.yaml"), "name: by-certificate\npools: [nobody-serves-it]\nscanTimeout: 1h\n");
        CliTest.Run submitted = as(ops, "submit", spec);
        assertThat(submitted.exit()).as(submitted.err()).isEqualTo(ExitCodes.OK);
        String id = submitted.out().strip();

        CliTest.Run shown = as(grafana, "show", id);
        assertThat(shown.exit()).as(shown.err()).isEqualTo(ExitCodes.OK);
        assertThat(shown.out()).contains("submitted by ops from 127.0.0.1");
    }

    @Test
    void aCertificateNamedByAlternativeNameHasOnlyItsPrincipalsRoles() throws Exception {
        assertThat(as(grafana, "list").exit()).isEqualTo(ExitCodes.OK);
        Path spec = Files.writeString(dir.resolve("viewer-spec.yaml"), "name: not-mine\npools: [p]\n");
        CliTest.Run denied = as(grafana, "submit", spec);
        assertThat(denied.exit()).isEqualTo(ExitCodes.NOT_ALLOWED);
        assertThat(denied.err()).contains("principal grafana (viewer) may not operate");
    }

    @Test
    void aCertificateTheFileDoesNotNameOrOfAnotherCaOpensNothing() {
        CliTest.Run unnamed = as(stranger, "list");
        assertThat(unnamed.exit()).isEqualTo(ExitCodes.NOT_ALLOWED);
        assertThat(unnamed.err()).contains("CN=stranger").contains("names no principal");

        // Signed by another CA, with the subject a principal has: the handshake refuses it.
        CliTest.Run forged = as(otherCa, "list");
        assertThat(forged.exit()).as(forged.err()).isEqualTo(ExitCodes.FAILURE);
        assertThat(forged.err()).contains("refused this CLI's client certificate (--cert)");
    }

    @Test
    void aTokenStillWorksAndProbesNeedNoCertificate() throws Exception {
        CliTest.Run run = CliTest.chainmerge(
                "campaign",
                "--coordinator",
                "https://127.0.0.1:" + coordinator.httpPort(),
                "--cacert",
                pki.caBundle(),
                "--token-file",
                adminToken,
                "list");
        assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.OK);

        HttpClient http = HttpClient.newBuilder()
                .sslContext(io.chainmerge.common.security.PemFiles.trusting(pki.caBundle()))
                .build();
        HttpResponse<String> health = http.send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + coordinator.httpPort() + "/health"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
    }

    @Test
    void aClientCaWithoutTheServersOwnTlsIsRefused() {
        assertThatThrownBy(() -> CoordinatorConfig.of(
                        Map.of("tls.client-ca", pki.caBundle().toString(), "kafka.bootstrap.servers", "127.0.0.1:1")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("tls.client-ca")
                .hasMessageContaining("tls.certificate");
        CliTest.Run half = CliTest.chainmerge("campaign", "--cert", ops.certificate(), "list");
        assertThat(half.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(half.err()).contains("--cert needs --key");
    }
}
