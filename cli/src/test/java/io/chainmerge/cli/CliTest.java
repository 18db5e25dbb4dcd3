package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command-line contract other parts of chainmerge and its users rely on. */
class CliTest {
    private static final int MIB = 1 << 20;
    private static final JsonCodec JSON = new JsonCodec();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.mapper().readTree(out);
        }
    }

    static Run chainmerge(Object... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] strings = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            strings[i] = String.valueOf(args[i]);
        }
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), strings);
        return new Run(exit, out.toString(), err.toString());
    }

    private ChainFixture chain(long seed) throws IOException {
        return ChainFixture.withRoot(
                        dir, "base.vhdx", DiskSpec.dynamic(32L * MIB).withBlockSize(MIB), seed)
                .write(5)
                .child("base_1.avhdx")
                .write(8);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "inspect",
                "create",
                "write",
                "export",
                "merge",
                "preflight",
                "set-parent",
                "transplant",
                "scan",
                "demo",
                "completion"
            })
    void everyCommandHasHelp(String command) {
        Run run = chainmerge(command, "--help");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("Usage: chainmerge " + command).contains("--help");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plan", "approve"})
    void theRecoveryCampaignCommandsHaveHelp(String command) {
        Run run = chainmerge("campaign", command, "--help");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("Usage: chainmerge campaign " + command).contains("--json");
    }

    @Test
    void theCommandListGivesEveryCommandAWholeOneLineSummary() {
        Run run = chainmerge("--help");
        assertThat(run.exit()).isZero();
        var root = ChainmergeCommand.commandLine();
        root.getSubcommands().forEach((name, sub) -> {
            if (!name.equals("help")) {
                String[] header = sub.getCommandSpec().usageMessage().header();
                assertThat(header).as(name + " has a one-line header").hasSize(1);
                assertThat(header[0]).as(name).endsWith(".").doesNotContain("\n");
                assertThat(header[0].length())
                        .as(name + ": the command list fits 80 columns")
                        .isLessThanOrEqualTo(66);
                assertThat(run.out()).as(name + " in the command list").contains(header[0]);
            }
        });
        // Descriptions are paragraphs that picocli wraps at the width (80 without a terminal), not lines
        // wrapped by hand and wrapped again: every line fits, and the paragraph reads whole once joined.
        String merge = chainmerge("merge", "--help").out();
        assertThat(merge.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(80));
        assertThat(merge.replaceAll("\\s+", " "))
                .contains("Merges CHILD into its parent (like Merge-VHD), or several levels into an ancestor, or the"
                        + " whole chain into a new disk.");
    }

    @Test
    void theBashCompletionCompletesCommandsAndInheritedOptions() throws Exception {
        Run run = chainmerge("completion", "bash");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("_complete_chainmerge").contains("ZSH_VERSION");
        Path script = Files.writeString(dir.resolve("chainmerge.bash"), run.out());
        assertThat(chainmerge("completion", "fish").exit()).isEqualTo(ExitCodes.USAGE);
        // bash itself completes with the script: a command from its prefix, --coordinator after a subcommand.
        String probe = "source " + script + " 2>/dev/null\n"
                + "complete_line() { COMP_LINE=\"$1\"; COMP_POINT=${#1}; read -ra COMP_WORDS <<< \"$1\";"
                + " COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _complete_chainmerge 2>/dev/null; echo \"${COMPREPLY[*]}\"; }\n"
                + "complete_line 'chainmerge mer'\n"
                + "complete_line 'chainmerge campaign list --coo'\n";
        Process bash;
        try {
            bash = new ProcessBuilder("bash", "-c", probe)
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "no bash to try the completion script in");
            return;
        }
        String out = new String(bash.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(bash.waitFor()).as(out).isZero();
        assertThat(out.lines()).containsExactly("merge", "--coordinator");
    }

    @Test
    void coordinatorIsAcceptedBeforeOrAfterTheSubcommand() throws IOException {
        // Nothing listens on port 9: both spellings reach the same address and fail the same way.
        for (String[] args : List.of(
                new String[] {"campaign", "--coordinator", "http://127.0.0.1:9", "list", "--json"},
                new String[] {"campaign", "list", "--coordinator", "http://127.0.0.1:9", "--json"},
                new String[] {"campaign", "list", "--json", "--coordinator=http://127.0.0.1:9"})) {
            Run run = chainmerge((Object[]) args);
            assertThat(run.exit()).as(String.join(" ", args)).isNotEqualTo(ExitCodes.USAGE);
            assertThat(run.out()).as(String.join(" ", args)).doesNotContain("Unknown option");
            assertThat(run.json().get("message").asText())
                    .as(String.join(" ", args))
                    .contains("127.0.0.1:9");
        }
    }

    @Test
    void aSpecThatCannotMeanAnythingIsRefusedBeforeTheCoordinatorIsAsked() throws IOException {
        Path spec = Files.writeString(
                dir.resolve("spec.yaml"), "pools: [pool-a]\nonInsufficientSpace: refuse\nmoveBack: true\n");
        // Nothing listens on port 9: a request would fail with a different error.
        Run run = chainmerge("campaign", "--coordinator", "http://127.0.0.1:9", "plan", spec, "--json");
        assertThat(run.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.json().get("reason").asText()).isEqualTo("invalid-spec");
        assertThat(run.json().get("message").asText())
                .contains("invalid campaign spec")
                .contains("moveBack apply only when onInsufficientSpace is transplant or ask");
    }

    @Test
    void aSpecItsSchemaRefusesIsNamedByFieldAndNeitherSubmittedNorPlanned() throws IOException {
        Path spec = Files.writeString(
                dir.resolve("misspelt.yaml"), "pools: [pool-a]\nselect: {olderthan: 2d}\nlimits: {perVolume: -1}\n");
        // Nothing listens on port 9: a request would fail with a different error.
        for (String command : List.of("submit", "plan")) {
            Run run = chainmerge("campaign", "--coordinator", "http://127.0.0.1:9", command, spec, "--json");
            assertThat(run.exit()).as(command).isEqualTo(ExitCodes.INVALID_INPUT);
            assertThat(run.json().get("reason").asText()).isEqualTo("invalid-spec");
            assertThat(run.json().get("field").asText()).isEqualTo("select.olderthan, limits.perVolume");
            assertThat(run.json().get("message").asText())
                    .contains(spec.toString())
                    .contains("select.olderthan: no such field")
                    .contains("limits.perVolume")
                    .doesNotContain("127.0.0.1:9");
        }
        Run plain = chainmerge("campaign", "--coordinator", "http://127.0.0.1:9", "submit", spec);
        assertThat(plain.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(plain.err()).contains("select.olderthan: no such field");
    }

    @Test
    void theVersionNamesTheProduct() {
        Run run = chainmerge("--version");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).startsWith("chainmerge ");
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertThat(chainmerge("merge").exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(chainmerge("frobnicate").exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(chainmerge("create", dir.resolve("x.vhdx"), "--size", "ten gigs")
                        .exit())
                .isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void theOfflineDemoPrintsItsOutcomeAsJsonAndItsStoryOnStandardError() throws IOException {
        Run demo = chainmerge("demo", "--offline", "--dir", dir.resolve("demo"), "--json");
        assertThat(demo.exit()).as(demo.err()).isZero();
        assertThat(demo.json().path("ok").asBoolean()).isTrue();
        assertThat(demo.json().path("checks").get(0).path("ok").asBoolean()).isTrue();
        assertThat(demo.err()).contains("OK: the merged disk reads exactly what the chain read");
    }

    @Test
    void aMissingInputFileIsAnInputErrorNamingTheFile() throws IOException {
        Run missing = chainmerge("inspect", dir.resolve("nothing.vhdx"));
        assertThat(missing.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(missing.err()).contains("nothing.vhdx");
        Run json = chainmerge("merge", dir.resolve("nothing.avhdx"), "--json");
        assertThat(json.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(json.json().path("reason").asText()).isEqualTo("not-found");
    }

    @Test
    void createAndInspectReportTheDiskAsJson() throws IOException {
        Path file = dir.resolve("new.vhdx");
        Run created = chainmerge("create", file, "--size", "1G", "--block-size", "2M", "--json");
        assertThat(created.exit()).as(created.err()).isZero();

        JsonNode disk = chainmerge("inspect", file, "--json").json();
        assertThat(disk.get("format").asText()).isEqualTo("VHDX");
        assertThat(disk.get("type").asText()).isEqualTo("DYNAMIC");
        assertThat(disk.get("virtualSize").asLong()).isEqualTo(1L << 30);
        assertThat(disk.get("blockSize").asInt()).isEqualTo(2 * MIB);
        assertThat(disk.get("logicalSectorSize").asInt()).isEqualTo(512);

        Path child = dir.resolve("new_1.avhdx");
        assertThat(chainmerge("create", child, "--parent", file).exit()).isZero();
        JsonNode childJson = chainmerge("inspect", child, "--json", "--verify").json();
        assertThat(childJson.get("type").asText()).isEqualTo("DIFFERENCING");

        assertThat(childJson.get("parentPath").asText())
                .isEqualTo(file.toRealPath().toString());
        assertThat(childJson.get("parentIdentities").get(0).asText())
                .isEqualTo(disk.get("identity").asText());
    }

    @Test
    void writeThenExportGiveBackWhatWasWrittenIncludingPartialSectors() throws IOException {
        ChainFixture chain = chain(1);
        ContentModel model = chain.model();
        byte[] data = ContentModel.randomData(new Random(3), 100_000);
        Path input = Files.write(dir.resolve("input.bin"), data);
        long offset = 5L * MIB + 77; // neither sector-aligned nor a sector multiple
        Run wrote = chainmerge("write", chain.top(), "--offset", offset, "--input", input, "--json");
        assertThat(wrote.exit()).as(wrote.err()).isZero();
        assertThat(wrote.json().path("bytes").asLong()).isEqualTo(data.length);
        assertThat(wrote.json().path("offset").asLong()).isEqualTo(offset);
        byte[] expected = new byte[200 * 1024];
        model.read(5L * MIB, expected);
        System.arraycopy(data, 0, expected, 77, data.length);
        model.write(5L * MIB, expected);

        Path raw = dir.resolve("out.raw");
        Run exported = chainmerge("export", chain.top(), raw, "--json");
        assertThat(exported.exit()).as(exported.err()).isZero();
        assertThat(exported.json().path("levels").asInt()).isEqualTo(2);
        assertThat(exported.json().path("output").asText()).isEqualTo(raw.toString());
        model.assertRawEquals(raw);
    }

    @Test
    void writingIntoADiskWithChildrenIsRefusedUnlessForced() throws IOException {
        ChainFixture chain = chain(2);
        Path input = Files.write(dir.resolve("input.bin"), new byte[512]);
        String before = Fingerprint.of(chain.root());
        Run refused = chainmerge("write", chain.root(), "--offset", 0, "--input", input);
        assertThat(refused.exit()).isEqualTo(ExitCodes.REFUSED);
        assertThat(refused.err()).contains("orphan");
        assertThat(Fingerprint.of(chain.root())).isEqualTo(before);
        assertThat(chainmerge("write", chain.root(), "--offset", 0, "--input", input, "--force")
                        .exit())
                .isZero();
    }

    @Test
    void mergeReportsAsJsonAndTheResultReadsTheSame() throws IOException {
        ChainFixture chain = chain(3);
        Run merged = chainmerge("merge", chain.top(), "--json", "--rate", "1GiB/s");
        assertThat(merged.exit()).as(merged.err()).isZero();
        JsonNode report = merged.json();
        assertThat(report.get("bytesMerged").asLong()).isPositive();
        assertThat(report.get("removedSources").get(0).asText()).endsWith("base_1.avhdx");
        assertThat(report.get("plan").get("destination").asText()).endsWith("base.vhdx");
        assertThat(merged.err()).doesNotContain("\r"); // no progress bar when not on a terminal
        chain.assertReads(chain.root());
    }

    @Test
    void aMergePacedByLatencyNamesWhatItMeasuredAndMergesTheSame() throws IOException {
        ChainFixture chain = chain(5);
        Run merged = chainmerge(
                "merge", chain.top(), "--latency-target", "50ms", "--latency-pause", "1s", "--min-rate", "1MiB/s");
        assertThat(merged.exit()).as(merged.err()).isZero();
        assertThat(merged.out()).contains("paced        by the ").contains("latency");
        chain.assertReads(chain.root());
    }

    @Test
    void pacingOptionsThatCannotWorkAreUsageErrors() throws IOException {
        ChainFixture chain = chain(6);
        Run alone = chainmerge("merge", chain.top(), "--min-rate", "1MiB/s");
        assertThat(alone.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(alone.err()).contains("need --latency-target");
        Run under = chainmerge("merge", chain.top(), "--latency-target", "20ms", "--latency-pause", "5ms");
        assertThat(under.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(under.err()).contains("io.latency-pause");
        assertThat(chain.top()).exists();
    }

    @Test
    void aRefusedMergeExitsWithThreeAndSaysWhyAsJson() throws IOException {
        ChainFixture chain = chain(4);
        Map<Path, String> before = Fingerprint.ofTree(dir);
        Run refused = chainmerge("merge", chain.top(), "--reserve", "100%", "--json");
        assertThat(refused.exit()).isEqualTo(ExitCodes.REFUSED);
        JsonNode error = refused.json();
        assertThat(error.get("outcome").asText()).isEqualTo("refused");
        assertThat(error.get("reason").asText()).isEqualTo("insufficient-space");
        assertThat(error.get("figures").get("requiredBytes").asLong()).isPositive();
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void preflightPrintsTheSpaceFiguresAndExitsThreeWhenItWouldNotFit() throws IOException {
        ChainFixture chain = chain(5);
        Run fits = chainmerge("preflight", chain.top(), "--json");
        assertThat(fits.exit()).isZero();
        JsonNode json = fits.json();
        assertThat(json.get("fits").asBoolean()).isTrue();
        assertThat(json.get("requiredBytes").asLong()).isPositive();
        assertThat(json.get("availableBytes").asLong())
                .isGreaterThan(json.get("requiredBytes").asLong());

        Run tight = chainmerge("preflight", chain.top(), "--reserve", "100%", "--json");
        assertThat(tight.exit()).isEqualTo(ExitCodes.REFUSED);
        assertThat(tight.json().get("fits").asBoolean()).isFalse();
        assertThat(tight.json().get("refusals").get(0).get("reason").asText()).isEqualTo("insufficient-space");
    }

    @Test
    void corruptInputExitsWithFourNamingTheFileAndField() throws IOException {
        ChainFixture chain = chain(6);
        byte[] bytes = Files.readAllBytes(chain.root());
        bytes[64 * 1024 + 20] ^= 0x40; // inside header 1's FileWriteGuid: header 1's checksum breaks
        bytes[128 * 1024 + 20] ^= 0x40; // and header 2's
        Files.write(chain.root(), bytes);
        Run run = chainmerge("inspect", chain.root(), "--json");
        assertThat(run.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        JsonNode error = run.json();
        assertThat(error.get("reason").asText()).isEqualTo("corrupt");
        assertThat(error.get("file").asText()).endsWith("base.vhdx");
        assertThat(error.get("field").asText()).contains("header");
        assertThat(chainmerge("merge", chain.top()).exit()).isEqualTo(ExitCodes.INVALID_INPUT);
    }

    @Test
    void setParentRefusesAnotherDiskWithThree() throws IOException {
        ChainFixture chain = chain(7);
        Path other = dir.resolve("other.vhdx");
        assertThat(chainmerge("create", other, "--size", "32M").exit()).isZero();
        Run run = chainmerge("set-parent", chain.top(), "--parent", other);
        assertThat(run.exit()).isEqualTo(ExitCodes.REFUSED);
        assertThat(run.err()).contains("is not the disk");
    }

    @Test
    void transplantMovesTheParentRepointsTheChildAndReportsAsJson() throws IOException {
        ChainFixture chain = chain(9);
        Path elsewhere = dir.resolve("elsewhere");
        Run run = chainmerge("transplant", chain.root(), "--to", elsewhere, "--reserve", "0", "--json");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode report = run.json();
        Path moved = elsewhere.resolve("base.vhdx").toRealPath();
        assertThat(report.get("files").get(0).get("target").asText()).isEqualTo(moved.toString());
        assertThat(report.get("files").get(0).get("sha256").asText()).hasSize(64);
        assertThat(report.get("repointed").get(0).asText())
                .isEqualTo(chain.top().toRealPath().toString());
        assertThat(chain.root()).doesNotExist();
        assertThat(elsewhere.resolve(".chainmerge")).doesNotExist();
        chain.assertReads(chain.top());

        // Back again as a copy, with a file in the way: refused as a bad request, nothing changed.
        Files.writeString(dir.resolve("base.vhdx"), "in the way");
        Run blocked = chainmerge("transplant", moved, "--to", dir, "--copy", "--reserve", "0");
        assertThat(blocked.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(blocked.err()).contains("already exists");
        assertThat(dir.resolve("base.vhdx")).hasContent("in the way");
    }

    @Test
    void scanShowsChainsOrphansAndVolumes() throws IOException {
        ChainFixture chain = chain(8).child("base_2.avhdx");
        Path lonely = dir.resolve("lonely.avhdx");
        Files.copy(chain.top(), lonely);
        Files.move(chain.file(1), dir.resolve("moved-away.bin"));

        JsonNode report = chainmerge("scan", dir, "--json").json();
        assertThat(report.get("disks")).hasSize(3);
        assertThat(report.get("volumes")).isNotEmpty();
        Run text = chainmerge("scan", dir);
        assertThat(text.exit()).isZero();
        assertThat(text.out()).contains("ORPHANED: parent missing").contains("3 disks, 1 chains, 2 orphans");
    }

    @Test
    void cancelPauseAndResumeAskTheCoordinatorForTheirOwnChange() throws Exception {
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer server =
                com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            asked.add(
                    exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            byte[] body = "{\"error\":\"no campaign c-1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            String coordinator = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
            for (String change : List.of("cancel", "pause", "resume")) {
                Run run = chainmerge("campaign", "--coordinator", coordinator, change, "c-1");
                assertThat(run.exit()).as(run.err()).isNotZero();
                assertThat(run.err()).contains("no campaign c-1");
            }
        } finally {
            server.stop(0);
        }
        assertThat(asked)
                .containsExactly(
                        "POST /v1/campaigns/c-1/cancel",
                        "POST /v1/campaigns/c-1/pause",
                        "POST /v1/campaigns/c-1/resume");
    }
}
