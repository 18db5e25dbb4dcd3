package io.chainmerge.cli;

import static io.chainmerge.cli.CliTest.chainmerge;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.cli.CliTest.Run;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.ContentModel;
import io.chainmerge.disk.testing.Fingerprint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every command takes VHD files too, choosing the format from the file, with the same exit codes. */
class CliVhdTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private ChainFixture chain(long seed) throws IOException {
        return ChainFixture.withRoot(dir, "base.vhd", DiskSpec.dynamic(32L * MIB), seed)
                .write(5)
                .child("base_1.avhd")
                .write(8);
    }

    @Test
    void createAndInspectAVhdChainWithTheCliDefaults() throws IOException {
        Path file = dir.resolve("new.vhd");
        Run created = chainmerge("create", file, "--size", "1G", "--json");
        assertThat(created.exit()).as(created.err()).isZero();

        JsonNode disk = chainmerge("inspect", file, "--json").json();
        assertThat(disk.get("format").asText()).isEqualTo("VHD");
        assertThat(disk.get("type").asText()).isEqualTo("DYNAMIC");
        // Rounded up to the next size the CHS geometry addresses, so qemu reads what Windows and blktap read.
        assertThat(disk.get("virtualSize").asLong()).isEqualTo(2081L * 16 * 63 * 512);
        assertThat(disk.get("blockSize").asInt()).isEqualTo(2 * MIB);
        assertThat(disk.get("physicalSectorSize").asInt()).isEqualTo(512);
        assertThat(disk.get("details").get("diskGeometry").asText()).isEqualTo("2081/16/63");

        Path child = dir.resolve("new_1.avhd");
        assertThat(chainmerge("create", child, "--parent", file).exit()).isZero();
        JsonNode childJson = chainmerge("inspect", child, "--json", "--verify").json();
        assertThat(childJson.get("type").asText()).isEqualTo("DIFFERENCING");
        assertThat(childJson.get("parentPath").asText())
                .isEqualTo(file.toRealPath().toString());
        assertThat(childJson.get("parentIdentities").get(0).asText())
                .isEqualTo(disk.get("identity").asText());
        assertThat(childJson.get("details").get("parentLocators").toString())
                .contains("W2ru")
                .contains("W2ku");

        Path fixed = dir.resolve("fixed.vhd");
        Run fixedRun = chainmerge("create", fixed, "--size", "8M", "--type", "fixed");
        assertThat(fixedRun.exit()).isZero();
        assertThat(fixedRun.out()).contains("rounded up from 8388608 bytes");
        assertThat(Files.size(fixed)).isEqualTo(241L * 4 * 17 * 512 + 512);
        Run sectors = chainmerge("create", dir.resolve("4k.vhd"), "--size", "8M", "--logical-sector", "4096");
        assertThat(sectors.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(sectors.err()).contains("512-byte sectors only");
    }

    @Test
    void writeExportAndMergeAVhdChain() throws IOException {
        ChainFixture chain = chain(1);
        ContentModel model = chain.model();
        byte[] data = ContentModel.randomData(new Random(3), 100_000);
        Path input = Files.write(dir.resolve("input.bin"), data);
        long offset = 5L * MIB + 77;
        assertThat(chainmerge("write", chain.top(), "--offset", offset, "--input", input)
                        .exit())
                .isZero();
        byte[] expected = new byte[200 * 1024];
        model.read(5L * MIB, expected);
        System.arraycopy(data, 0, expected, 77, data.length);
        model.write(5L * MIB, expected);
        Path raw = dir.resolve("out.raw");
        assertThat(chainmerge("export", chain.top(), raw).exit()).isZero();
        model.assertRawEquals(raw);

        Run preflight = chainmerge("preflight", chain.top(), "--json");
        assertThat(preflight.exit()).as(preflight.err()).isZero();
        long required = preflight.json().get("requiredBytes").asLong();
        long sizeBefore = Files.size(chain.root());

        Run merged = chainmerge("merge", chain.top(), "--json");
        assertThat(merged.exit()).as(merged.err()).isZero();
        JsonNode report = merged.json();
        assertThat(report.get("removedSources").get(0).asText()).endsWith("base_1.avhd");
        assertThat(report.get("destinationGrowthBytes").asLong()).isEqualTo(required);
        assertThat(Files.size(chain.root()) - sizeBefore).isEqualTo(required);
        chain.assertReads(chain.root());
    }

    @Test
    void corruptVhdExitsWithFourNamingTheFileAndField() throws IOException {
        ChainFixture chain = chain(2);
        byte[] bytes = Files.readAllBytes(chain.root());
        bytes[512 + 900] ^= 0x40; // inside the dynamic disk header: its checksum breaks
        Files.write(chain.root(), bytes);
        Map<Path, String> before = Fingerprint.ofTree(dir);
        Run run = chainmerge("inspect", chain.root(), "--json");
        assertThat(run.exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        JsonNode error = run.json();
        assertThat(error.get("reason").asText()).isEqualTo("corrupt");
        assertThat(error.get("file").asText()).endsWith("base.vhd");
        assertThat(error.get("field").asText()).isEqualTo("dynamic disk header Checksum");
        assertThat(error.get("offset").asLong()).isEqualTo(512 + 36);
        assertThat(chainmerge("merge", chain.top()).exit()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(Fingerprint.ofTree(dir)).isEqualTo(before);
    }

    @Test
    void setParentFollowsAMovedVhdParentAndSaysWhenOnlyItsTimeStampDiffers() throws IOException {
        ChainFixture chain = chain(3);
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("base.vhd");
        Files.copy(chain.root(), moved);
        Files.setLastModifiedTime(moved, FileTime.from(Instant.parse("2025-06-07T08:09:10Z")));
        Files.delete(chain.root());

        Run run = chainmerge("set-parent", chain.top(), "--parent", moved);
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("now points at").contains("note: only the time stamp differs");
        chain.assertReads(chain.top());

        Path other = dir.resolve("other.vhd");
        assertThat(chainmerge("create", other, "--size", "32M").exit()).isZero();
        Run refused = chainmerge("set-parent", chain.top(), "--parent", other);
        assertThat(refused.exit()).isEqualTo(ExitCodes.REFUSED);
        assertThat(refused.err()).contains("is not the disk");
    }

    @Test
    void scanListsBothFormatsAndAChildOfTheOtherFormatAsInvalid() throws IOException {
        chain(4);
        ChainFixture.withRoot(dir, "x.vhdx", DiskSpec.dynamic(16L * MIB), 5).child("x_1.avhdx");
        ChainFixture mixed = ChainFixture.withRoot(dir, "mixed.vhd", DiskSpec.dynamic(8L * MIB), 6)
                .child("mixed_1.avhd");
        Path impostor = dir.resolve("impostor.vhdx");
        assertThat(chainmerge("create", impostor, "--size", "8M").exit()).isZero();
        Files.move(impostor, mixed.root(), StandardCopyOption.REPLACE_EXISTING);

        JsonNode report = chainmerge("scan", dir, "--json").json();
        assertThat(report.get("disks")).hasSize(6);
        assertThat(report.get("disks").findValuesAsText("format")).contains("VHD", "VHDX");
        JsonNode invalid = null;
        for (JsonNode disk : report.get("disks")) {
            if (disk.get("path").asText().endsWith("mixed_1.avhd")) {
                invalid = disk;
            }
        }
        assertThat(invalid).isNotNull();
        assertThat(invalid.get("link").asText()).isEqualTo("INVALID_PARENT");
        assertThat(chainmerge("merge", mixed.top()).exit()).isEqualTo(ExitCodes.INVALID_INPUT);
    }
}
