package io.chainmerge.cli;

import static io.chainmerge.cli.CliTest.chainmerge;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.OpenFileHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain someone uses without taking a POSIX lock is not merged: an SMB client of a real Samba server
 * holding the child open, a local process holding the parent open, the site's own probe saying so. Each
 * refusal names the holder and changes no byte; once the holder lets go, the same merge runs.
 */
class InUseIT {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private Path share;
    private Path base;
    private Path top;

    @BeforeEach
    void chain() throws Exception {
        share = Files.createDirectories(dir.resolve("share")).toRealPath();
        ChainFixture chain = ChainFixture.withRoot(
                        share, "vm01.vhdx", DiskSpec.dynamic(16 * MIB).withBlockSize((int) MIB), 15)
                .write(6)
                .child("vm01_1.avhdx")
                .write(6);
        base = chain.root();
        top = chain.top();
    }

    private String digests() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Path file : List.of(base, top)) {
            sha.update(Files.readAllBytes(file));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static JsonNode refusedInUse(CliTest.Run run) throws Exception {
        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(3);
        JsonNode refusal = run.json();
        assertThat(refusal.path("reason").asText()).isEqualTo("in-use");
        return refusal;
    }

    @Test
    void anSmbClientHoldingTheChildOpenKeepsTheMergeOffNamingClientAndUser() throws Exception {
        try (SambaServer samba = SambaServer.start(dir.resolve("samba"), share)) {
            String before = digests();
            try (SambaServer.Client client = samba.open(top.getFileName().toString())) {
                JsonNode refusal = refusedInUse(chainmerge("merge", top, "--samba-config", samba.config(), "--json"));

                assertThat(refusal.path("figures").path("probe").asText()).isEqualTo("samba");
                assertThat(refusal.path("message").asText())
                        .contains(top.toString(), "SMB client 127.0.0.1, user root, share " + share);
                assertThat(digests()).isEqualTo(before);
            }
            CliTest.Run merged = chainmerge("merge", top, "--samba-config", samba.config(), "--json");
            assertThat(merged.exit()).as(merged.out() + merged.err()).isZero();
            assertThat(top).doesNotExist();
        }
    }

    @Test
    void aLocalProcessHoldingTheParentOpenIsNamedByPidAndCommand() throws Exception {
        String before = digests();
        try (OpenFileHolder holder = OpenFileHolder.open(base)) {
            JsonNode refusal = refusedInUse(chainmerge("merge", top, "--json"));

            assertThat(refusal.path("figures").path("probe").asText()).isEqualTo("open-files");
            assertThat(refusal.path("message").asText()).contains(base + ": in use: pid " + holder.pid() + " (/bin/sh");
            assertThat(digests()).isEqualTo(before);
        }
        assertThat(chainmerge("merge", top, "--json").exit()).isZero();
    }

    @Test
    void theSitesProbeDecidesAndOneThatFailsRefusesUnlessToldToIgnoreIt() throws Exception {
        String before = digests();
        JsonNode inUse = refusedInUse(chainmerge(
                "merge",
                top,
                "--in-use-command",
                "echo '{\"inUse\": true, \"holder\": \"VM vm01 running on hv-07\"}'",
                "--json"));
        assertThat(inUse.path("message").asText())
                .contains("in use: VM vm01 running on hv-07 (seen by the hook probe)");

        JsonNode blind = refusedInUse(chainmerge("merge", top, "--in-use-command", "exit 1", "--json"));
        assertThat(blind.path("message").asText()).contains("the hook probe cannot look (in-use.command exited 1");
        assertThat(digests()).isEqualTo(before);

        CliTest.Run ignored =
                chainmerge("merge", top, "--in-use-command", "exit 1", "--if-probe-fails", "ignore", "--json");
        assertThat(ignored.exit()).as(ignored.out() + ignored.err()).isZero();
    }
}
