package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.security.PemFiles;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.coordinator.Role;
import io.chainmerge.coordinator.Tokens;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -HUP} (what {@code systemctl reload} sends) makes a running {@code chainmerge coordinator} read its
 * certificate, key and principals file again, and a running {@code chainmerge worker} its certificate and key,
 * and each runs on. The files are replaced keeping their size and
 * modification time, so the daemon's look at changed files sees nothing: only the signal can make the new ones
 * count. A reload of files that cannot be used keeps what was in force and says why.
 */
class ReloadOnHangupIT {
    /** Every file the test replaces is this long, padded with blank lines, which PEM and YAML ignore. */
    static final int FILE_SIZE = 4096;

    static final FileTime WRITTEN = FileTime.fromMillis(1_700_000_000_000L);

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    @Test
    void sighupPutsANewCertificateKeyAndPrincipalsFileInForceAndTheCoordinatorRunsOn() throws Exception {
        ThrowawayPki pki = ThrowawayPki.create(dir.resolve("pki"));
        ThrowawayPki.Issued first = pki.issue("coordinator");
        ThrowawayPki.Issued renewed = pki.issue("renewed");
        Path certificate = dir.resolve("tls/api.crt");
        Path key = dir.resolve("tls/api.key");
        Files.createDirectories(certificate.getParent());
        String oldToken = Tokens.newToken();
        String newToken = Tokens.newToken();
        Path principals = dir.resolve("principals.yaml");
        replace(certificate, Files.readString(first.certificate()));
        replace(key, Files.readString(first.key()));
        replace(principals, principalsFile("ops-old", oldToken));

        int port = freePort();
        Map<String, Object> settings = new HashMap<>(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                port,
                "topics.prefix",
                "hangup",
                "topics.replication",
                1,
                "tls.certificate",
                certificate.toString(),
                "tls.key",
                key.toString(),
                "security.principals-file",
                principals.toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers()));
        Path log = dir.resolve("coordinator.log");
        Process coordinator = daemon("coordinator", settings, log);
        try {
            SSLContext trust = PemFiles.trusting(pki.caBundle());
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(trust)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            String campaigns = "https://127.0.0.1:" + port + "/v1/campaigns";
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> assertThat(
                            status(http, campaigns, oldToken))
                    .isEqualTo(200));
            assertThat(servedSerial(trust, port)).isEqualTo(serial(first.certificate()));

            replace(certificate, Files.readString(renewed.certificate()));
            replace(key, Files.readString(renewed.key()));
            replace(principals, principalsFile("ops-new", newToken));
            // Longer than the daemon takes to notice a changed file (1 s for TLS, 2 s for principals): it does not.
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).untilAsserted(() -> {
                assertThat(status(http, campaigns, oldToken)).isEqualTo(200);
                assertThat(servedSerial(trust, port)).isEqualTo(serial(first.certificate()));
            });

            hangUp(coordinator);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(servedSerial(trust, port)).isEqualTo(serial(renewed.certificate()));
                assertThat(status(http, campaigns, newToken)).isEqualTo(200);
                assertThat(status(http, campaigns, oldToken)).isEqualTo(401);
            });
            assertThat(coordinator.isAlive()).isTrue();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(Files.readString(log))
                    .contains("SIGHUP: reloaded; the files read are in force"));

            // Files that cannot be used: refused, said so, and what was in force stays.
            replace(certificate, "not a certificate\n");
            replace(principals, "principals: [{name: nobody}]\n");
            hangUp(coordinator);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(Files.readString(log))
                    .contains("the principals file is refused; the principals read before stay")
                    .contains("TLS (SIGHUP): " + certificate + " and " + key + " cannot be used; the earlier "
                            + "certificate stays")
                    .contains("SIGHUP: not everything could be reloaded"));
            assertThat(servedSerial(trust, port)).isEqualTo(serial(renewed.certificate()));
            assertThat(status(http, campaigns, newToken)).isEqualTo(200);
            assertThat(coordinator.isAlive()).isTrue();
        } finally {
            coordinator.destroy();
            coordinator.waitFor();
        }
    }

    @Test
    void sighupPutsAWorkersNewCertificateInForceAndTheWorkerRunsOn() throws Exception {
        ThrowawayPki pki = ThrowawayPki.create(dir.resolve("worker-pki"));
        ThrowawayPki.Issued first = pki.issue("storage-a");
        ThrowawayPki.Issued renewed = pki.issue("storage-a-renewed");
        Path certificate = dir.resolve("worker-tls/worker.crt");
        Path key = dir.resolve("worker-tls/worker.key");
        Files.createDirectories(certificate.getParent());
        replace(certificate, Files.readString(first.certificate()));
        replace(key, Files.readString(first.key()));
        int port = freePort();
        Map<String, Object> settings = new HashMap<>(Map.of(
                "pool",
                "hangup",
                "volumes",
                List.of(Files.createDirectories(dir.resolve("vol1")).toString()),
                "http.host",
                "127.0.0.1",
                "http.port",
                port,
                "in-use.quiet",
                "0s",
                "topics.replication",
                1,
                // TLS without the rest of a secure worker's settings: this test is about the certificate.
                "security.mode",
                "insecure",
                "tls.certificate",
                certificate.toString(),
                "tls.key",
                key.toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers()));
        Path log = dir.resolve("worker.log");
        Process worker = daemon("worker", settings, log);
        try {
            SSLContext trust = PemFiles.trusting(pki.caBundle());
            await().atMost(Duration.ofSeconds(90))
                    .ignoreExceptions()
                    .untilAsserted(() -> assertThat(servedSerial(trust, port)).isEqualTo(serial(first.certificate())));

            replace(certificate, Files.readString(renewed.certificate()));
            replace(key, Files.readString(renewed.key()));
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(servedSerial(trust, port)).isEqualTo(serial(first.certificate())));
            hangUp(worker);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(servedSerial(trust, port))
                    .isEqualTo(serial(renewed.certificate())));
            assertThat(worker.isAlive()).isTrue();

            replace(key, "not a key\n");
            hangUp(worker);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(Files.readString(log))
                    .contains("cannot be used; the earlier certificate stays"));
            assertThat(servedSerial(trust, port)).isEqualTo(serial(renewed.certificate()));
            assertThat(worker.isAlive()).isTrue();
        } finally {
            worker.destroy();
            worker.waitFor();
        }
    }

    /** {@code chainmerge COMMAND --config FILE} as a process of its own, as systemd runs it. */
    private Process daemon(String command, Map<String, Object> settings, Path log) throws Exception {
        Path config = dir.resolve(command + ".yaml");
        Files.writeString(config, ChainmergeCommand.JSON.yaml().writeValueAsString(settings));
        return new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                        command,
                        "--config",
                        config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static void hangUp(Process process) throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }

    private static String principalsFile(String name, String token) throws Exception {
        Path made = Files.createTempFile(dir, "principals", ".yaml");
        Files.delete(made);
        Tokens.addPrincipal(made, name, List.of(Role.VIEWER), null, Tokens.sha256Hex(token), ChainmergeCommand.JSON);
        return Files.readString(made);
    }

    /**
     * Puts {@code text}, padded to {@link #FILE_SIZE} and with the same modification time as every time before, in
     * place of {@code file} in one rename: the daemon never sees the file with another size or time.
     */
    private static void replace(Path file, String text) throws Exception {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        assertThat(bytes.length).isLessThan(FILE_SIZE);
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, text + "\n".repeat(FILE_SIZE - bytes.length), StandardCharsets.US_ASCII);
        Files.setLastModifiedTime(next, WRITTEN);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static int status(HttpClient http, String url, String token) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .header("Authorization", "Bearer " + token)
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** The serial number of the certificate a new connection is given. */
    private static BigInteger servedSerial(SSLContext trust, int port) throws Exception {
        try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    private static BigInteger serial(Path pem) throws Exception {
        return ((X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem))))
                .getSerialNumber();
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
