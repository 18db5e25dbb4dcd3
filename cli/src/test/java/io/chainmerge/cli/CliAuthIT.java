package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against a secure coordinator and a real broker: tokens from --token-file and CHAINMERGE_TOKEN, exit
 * code 5 with a clear message when the coordinator refuses the caller, {@code campaign show} naming who
 * submitted and paused, {@code token new} making a principal a running coordinator takes, and a secure
 * coordinator without principals that does not start.
 */
class CliAuthIT {
    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static Path principals;
    static Path operatorToken;
    static Path viewerToken;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        principals = dir.resolve("principals.yaml");
        operatorToken = dir.resolve("ops.token");
        viewerToken = dir.resolve("viewer.token");
        assertThat(token("ops", "operator", operatorToken).exit()).isZero();
        assertThat(token("auditor", "viewer", viewerToken).exit()).isZero();
        coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.prefix",
                "cli-auth",
                "topics.replication",
                1,
                "security.principals-file",
                principals.toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers())));
        url = "http://127.0.0.1:" + coordinator.httpPort();
    }

    @AfterAll
    static void stop() {
        coordinator.close();
        kafka.close();
    }

    private static CliTest.Run token(String name, String role, Path tokenFile) {
        return CliTest.chainmerge(
                "token",
                "new",
                "--name",
                name,
                "--role",
                role,
                "--token-file",
                tokenFile,
                "--principals-file",
                principals);
    }

    @Test
    void withoutATokenTheCommandSaysHowToGiveOneAndExits5() {
        CliTest.Run run = CliTest.chainmerge("campaign", "--coordinator", url, "list");
        assertThat(run.exit()).isEqualTo(ExitCodes.NOT_ALLOWED);
        assertThat(run.err())
                .contains("does not know the caller")
                .contains("--token-file FILE or CHAINMERGE_TOKEN")
                .doesNotContain("Exception");

        CliTest.Run json = CliTest.chainmerge("campaign", "--coordinator", url, "list", "--json");
        assertThat(json.exit()).isEqualTo(ExitCodes.NOT_ALLOWED);
        assertThat(json.out()).contains("\"reason\" : \"unauthorized\"");
    }

    @Test
    void aRoleThatMayNotSubmitExits5AndTheOperatorsSubmitAndPauseShowInTheReport() throws Exception {
        Path spec = Files.writeString(
                dir.resolve("spec.yaml"), "name: cli-auth\npools: [nobody-serves-it]\nscanTimeout: 1h\n");
        CliTest.Run denied =
                CliTest.chainmerge("campaign", "--coordinator", url, "--token-file", viewerToken, "submit", spec);
        assertThat(denied.exit()).isEqualTo(ExitCodes.NOT_ALLOWED);
        assertThat(denied.err()).contains("refused").contains("auditor");

        CliTest.Run submitted =
                CliTest.chainmerge("campaign", "--coordinator", url, "--token-file", operatorToken, "submit", spec);
        assertThat(submitted.exit()).as(submitted.err()).isZero();
        String id = submitted.out().strip();
        CliTest.Run paused =
                CliTest.chainmerge("campaign", "pause", id, "--coordinator", url, "--token-file", operatorToken);
        assertThat(paused.exit()).as(paused.err()).isZero();

        CliTest.Run shown =
                CliTest.chainmerge("campaign", "--coordinator", url, "show", id, "--token-file", viewerToken);
        assertThat(shown.exit()).as(shown.err()).isZero();
        assertThat(shown.out())
                .contains("submitted by ops from 127.0.0.1")
                .containsPattern("paused by ops from 127\\.0\\.0\\.1 at \\S+");
    }

    @Test
    void theTokenComesFromTheEnvironmentWhenNoFileIsGiven() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "campaign",
                        "--coordinator",
                        url,
                        "list",
                        "--json")
                .redirectErrorStream(true);
        builder.environment()
                .put("CHAINMERGE_TOKEN", Files.readString(viewerToken).strip());
        Process withToken = builder.start();
        String output = new String(withToken.getInputStream().readAllBytes());
        assertThat(withToken.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(withToken.exitValue()).as(output).isZero();

        builder.environment().put("CHAINMERGE_TOKEN", "cmt_not-a-token");
        Process wrong = builder.start();
        String refused = new String(wrong.getInputStream().readAllBytes());
        assertThat(wrong.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(wrong.exitValue()).as(refused).isEqualTo(ExitCodes.NOT_ALLOWED);
    }

    @Test
    void aTokenMadeWithTokenNewWorksOnTheRunningCoordinator() throws Exception {
        Path fresh = dir.resolve("fresh.token");
        CliTest.Run made = token("fresh", "viewer", fresh);
        assertThat(made.exit()).as(made.err()).isZero();
        assertThat(made.out()).contains("token written to").contains("added fresh to");
        assertThat(Files.readString(principals))
                .contains("fresh")
                .doesNotContain(Files.readString(fresh).strip());
        await().atMost(Duration.ofSeconds(15))
                .until(() -> CliTest.chainmerge("campaign", "--coordinator", url, "list", "--token-file", fresh)
                                .exit()
                        == ExitCodes.OK);
    }

    @Test
    void tokenNewPrintsTheTokenAndTheEntryWhenGivenNoFiles() throws Exception {
        CliTest.Run printed = CliTest.chainmerge(
                "token", "new", "--name", "vbr", "--role", "backup-system", "--source", "/backup/vbr", "--json");
        assertThat(printed.exit()).as(printed.err()).isZero();
        var json = printed.json();
        assertThat(json.path("token").asText()).startsWith("cmt_");
        assertThat(json.path("tokenSha256").asText())
                .isEqualTo(io.chainmerge.coordinator.Tokens.sha256Hex(
                        json.path("token").asText()));
        assertThat(json.path("source").asText()).isEqualTo("/backup/vbr");

        CliTest.Run noSource = CliTest.chainmerge("token", "new", "--name", "vbr", "--role", "backup-system");
        assertThat(noSource.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(noSource.err()).contains("needs --source");
    }

    @Test
    void aSecureCoordinatorWithoutPrincipalsDoesNotStartAndNamesTheMissingSetting() {
        CliTest.Run run = CliTest.chainmerge(
                "coordinator", "--set", "kafka.bootstrap.servers=" + kafka.bootstrapServers(), "--set", "http.port=0");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("security.principals-file is required").contains("security.mode: insecure");
        assertThat(List.of(run.exit())).doesNotContain(ExitCodes.OK);
    }

    @Test
    void aSecureCoordinatorWhosePlainHttpApiListensOnANetworkDoesNotStartAndNamesTheSettings() {
        CliTest.Run run = CliTest.chainmerge(
                "coordinator",
                "--set",
                "kafka.bootstrap.servers=" + kafka.bootstrapServers(),
                "--set",
                "http.port=0",
                "--set",
                "http.host=0.0.0.0",
                "--set",
                "security.principals-file=" + principals);
        assertThat(run.exit()).isNotZero();
        assertThat(run.err())
                .contains("tls.certificate and tls.key are required")
                .contains("http.host: 127.0.0.1")
                .contains("http.plaintext: allow");
    }
}
