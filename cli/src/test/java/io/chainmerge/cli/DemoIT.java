package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
