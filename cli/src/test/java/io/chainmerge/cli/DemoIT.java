package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.security.PemFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code chainmerge demo} as a newcomer runs it: the packaged jar, its broker process, the whole fleet. */
class DemoIT {
    @TempDir
    Path work;

    @Test
    void theDemoMergesTheFleetAndEveryChainReadsAsBefore() throws Exception {
        Path output = work.resolve("demo.out");
        Process demo = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                        "demo",
                        "--dir",
                        work.resolve("demo").toString())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        boolean ended = demo.waitFor(3, TimeUnit.MINUTES);
        String threads = "";
        if (!ended) {
            threads = threadDump(demo.pid());
            demo.destroyForcibly().waitFor();
        }
        String text = Files.readString(output) + threads;
        assertThat(ended).as(text).isTrue();
        assertThat(demo.exitValue()).as(text).isZero();
        assertThat(text)
                .contains("merged 5, refused 0, failed 0")
                .contains("siblings")
                .contains("missing-parent")
                .contains("OK: every chain reads exactly what it read before")
                // Two coordinators: the leader stops after the first merge, the standby finishes the campaign.
                .contains("coordinator-1 leads at https://127.0.0.1:")
                .containsPattern(
                        "coordinator-2 led \\d+ ms later, fenced every earlier leader, and finished the campaign")
                // Each daemon its own Kafka identity, held to its role's ACLs by the broker's authorizer.
                .contains("kafka: SASL/SCRAM and ACLs")
                // Secure like any coordinator: its own principals file and token, and how to call it.
                .contains("principals: ")
                .containsPattern(
                        "curl --cacert \\S+ca\\.pem -H \"Authorization: Bearer \\$\\(cat \\S+operator.token\\)\" "
                                + "https://127\\.0\\.0\\.1:\\d+/v1/campaigns");
    }

    @Test
    void withServeTheSystemStaysUpForTheDashboardUntilStoppedThenEverythingCloses() throws Exception {
        Path output = work.resolve("serve.out");
        Process demo = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Djava.io.tmpdir=" + work,
                        "-jar",
                        Path.of("target/chainmerge.jar").toAbsolutePath().toString(),
                        "demo",
                        "--serve")
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try {
            Pattern dashboard = Pattern.compile("dashboard: (https://127\\.0\\.0\\.1:\\d+/ui/)");
            String url = null;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (url == null && demo.isAlive() && System.nanoTime() < deadline) {
                Matcher found = dashboard.matcher(Files.readString(output));
                if (found.find()) {
                    url = found.group(1);
                } else {
                    Thread.sleep(500);
                }
            }
            String text = Files.readString(output);
            assertThat(url).as(text).isNotNull();
            Path token = Path.of(find(text, "sign in with the token in (\\S+operator\\.token)"));
            Path ca = Path.of(find(text, "trust (\\S+ca\\.pem)"));
            Path folder = Path.of(find(text, "chainmerge demo in (\\S+)"));
            assertThat(text).contains("merged 5, refused 0, failed 0");

            // Up after the campaign: the page anonymously, the caller with the token it names, over the demo's CA.
            HttpClient https =
                    HttpClient.newBuilder().sslContext(PemFiles.trusting(ca)).build();
            HttpResponse<String> page =
                    https.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<script type=\"module\" src=\"app.js\">");
            HttpResponse<String> me = https.send(
                    HttpRequest.newBuilder(URI.create(url.replace("/ui/", "/v1/me")))
                            .header(
                                    "Authorization",
                                    "Bearer " + Files.readString(token).strip())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(me.body()).contains("\"name\":\"demo-operator\"").contains("\"operate\"");

            // Stopped as Ctrl-C stops it (the JVM's shutdown runs the same way for SIGINT and SIGTERM).
            List<ProcessHandle> daemons = demo.descendants().toList();
            assertThat(daemons).as("the broker runs in a process of its own").isNotEmpty();
            demo.destroy();
            assertThat(demo.waitFor(90, TimeUnit.SECONDS)).isTrue();
            String stopped = Files.readString(output);
            // The chains are checked once the daemons are closed, before the folder goes.
            assertThat(stopped)
                    .contains("stopping the coordinators, the workers and the broker")
                    .contains("OK: every chain reads exactly what it read before");
            assertThat(daemons).noneMatch(ProcessHandle::isAlive);
            assertThat(folder).doesNotExist();
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }

    private static String find(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        assertThat(matcher.find()).as(regex + " in " + text).isTrue();
        return matcher.group(1);
    }

    /** What every thread of a demo that did not end was doing, so a hang in CI explains itself. */
    private static String threadDump(long pid) throws Exception {
        Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
        if (!Files.isExecutable(jstack)) {
            return "";
        }
        Process dump = new ProcessBuilder(jstack.toString(), String.valueOf(pid))
                .redirectErrorStream(true)
                .start();
        String text = new String(dump.getInputStream().readAllBytes());
        dump.waitFor(30, TimeUnit.SECONDS);
        return "\n--- threads of the demo when it was stopped ---\n" + text;
    }
}
