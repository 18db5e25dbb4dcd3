package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The man pages the build ships: one per command, each what --help says, and roff that man renders cleanly. */
class ManPagesTest {
    @TempDir
    Path dir;

    @Test
    void everyCommandGetsAPageNamedAfterItWithItsSummaryAndOptions() throws IOException {
        ManPages.main(new String[] {dir.toString(), "9.9.9"});
        TreeSet<String> pages = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> pages.add(f.getFileName().toString()));
        }
        assertThat(pages)
                .contains(
                        "chainmerge.1",
                        "chainmerge-merge.1",
                        "chainmerge-worker.1",
                        "chainmerge-campaign.1",
                        "chainmerge-campaign-submit.1",
                        "chainmerge-backup-publish.1",
                        "chainmerge-completion.1")
                .doesNotContain("chainmerge-help.1");
        assertThat(pages).hasSize(ManPages.all(ChainmergeCommand.commandLine()).size());

        String merge = Files.readString(dir.resolve("chainmerge-merge.1"));
        assertThat(merge)
                .startsWith(".\\\" Generated")
                .contains(".TH CHAINMERGE-MERGE 1 \"\" \"chainmerge 9.9.9\"")
                .contains("chainmerge\\-merge \\- Merges a child into its parent, an ancestor or a new disk.")
                .contains("\\fB\\-\\-destination\\fR \\fIANCESTOR\\fR")
                .contains(".SH EXIT STATUS");
        assertThat(Files.readString(dir.resolve("chainmerge.1"))).contains("\\fBchainmerge\\-merge\\fR(1)");
    }

    @Test
    void aLineThatWouldReadAsARoffRequestIsEscaped() {
        assertThat(ManPages.escape(".hidden\n'quoted\nback\\slash")).isEqualTo("\\&.hidden\n\\&'quoted\nback\\eslash");
    }

    /** groff's own check: every page renders with warnings on and none printed. */
    @Test
    void manRendersEveryPageWithoutAWarning() throws Exception {
        ManPages.main(new String[] {dir.toString(), "9.9.9"});
        for (CommandLine command : ManPages.all(ChainmergeCommand.commandLine())) {
            Path page = dir.resolve(ManPages.fileName(command.getCommandSpec()));
            Process groff;
            try {
                groff = new ProcessBuilder("groff", "-man", "-Tutf8", "-ww", "-z", page.toString())
                        .redirectErrorStream(true)
                        .start();
            } catch (IOException e) {
                assertThat(System.getenv("CI"))
                        .as("groff (Debian: groff-base; .ci/run installs it)")
                        .isNotEqualTo("true");
                assumeTrue(false, "groff is not installed (Debian: groff-base); pages checked as text only");
                return;
            }
            String warnings = new String(groff.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(groff.waitFor()).as(page + ": " + warnings).isZero();
            assertThat(warnings).as(page.getFileName().toString()).isEmpty();
        }
        assertThat(List.of(dir.toFile().list())).isNotEmpty();
    }
}
