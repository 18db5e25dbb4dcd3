package io.chainmerge.disk.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every VHD chainmerge creates has one virtual size for every reader: qemu (which sizes files of creators
 * it does not know by their CHS geometry, unless that is the maximum), qemu told to take Current Size,
 * libvhdi and the engine (Current Size, as Windows and blktap). docs/vhd.md, "Size".
 */
class VhdSizeAgreementTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} bytes asked for")
    @ValueSource(longs = {4 * GIB, 10L * (1 << 20) + 3 * 512, GIB + 512, 100_000_000, 40 * GIB + 7 * 512, 200 * GIB})
    void aRootCreatedForASizeChosenFreelyIsAtLeastThatAndReadsTheSameEverywhere(long requested) throws IOException {
        Path file = dir.resolve("free.vhd");
        long size = DiskFiles.sizeForNewRoot(file, requested);
        assertThat(size).isGreaterThanOrEqualTo(requested).isLessThan(requested + 2 * (1 << 20));
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(size))) {
            assertThat(disk.virtualSize()).isEqualTo(size);
        }
        assertEveryReaderSees(file, size);
        // The geometry addresses the whole disk, so even qemu told to size by it agrees.
        if (size < (long) 65535 * 16 * 255 * 512) {
            assertThat(qemuVirtualSize(file, "chs")).isEqualTo(size);
        }
    }

    @ParameterizedTest(name = "{0} bytes exactly")
    @ValueSource(longs = {4 * GIB, 10L * (1 << 20) + 3 * 512, GIB + 512, 99_999_744, 200 * GIB})
    void aRootWhoseSizeIsGivenKeepsItExactlyAndReadsTheSameEverywhere(long size) throws IOException {
        // As a merge into a new disk makes one: its size is the chain's, byte for byte.
        Path file = dir.resolve("exact.vhd");
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(size))) {
            assertThat(disk.virtualSize()).isEqualTo(size);
        }
        assertEveryReaderSees(file, size);
    }

    @Test
    void fourGibibytesAskedForBecomeTheNextSizeItsGeometryAddresses() {
        // The specification's geometry for 4 GiB, 8322/16/63, addresses 16 KiB less; one cylinder more fits.
        assertThat(DiskFiles.sizeForNewRoot(Path.of("x.vhd"), 4 * GIB)).isEqualTo(8323L * 16 * 63 * 512);
        assertThat(DiskFiles.sizeForNewRoot(Path.of("x.vhdx"), 4 * GIB)).isEqualTo(4 * GIB);
        assertThat(DiskGeometry.forExactSize(4 * GIB)).isEqualTo(DiskGeometry.MAXIMUM);
        assertThat(DiskGeometry.forExactSize(8323L * 16 * 63 * 512)).isEqualTo(new DiskGeometry(8323, 16, 63));
    }

    private static void assertEveryReaderSees(Path file, long size) {
        Oracles.requireQemu();
        assertThat(qemuVirtualSize(file, null)).as("qemu-img info").isEqualTo(size);
        assertThat(qemuVirtualSize(file, "current_size"))
                .as("qemu-img info, force_size_calc=current_size")
                .isEqualTo(size);
        Oracles.requireLibvhdi();
        Matcher media = Pattern.compile("Media size\\s*: .*\\((\\d+) bytes\\)").matcher(Oracles.vhdiInfo(file));
        assertThat(media.find()).as("vhdiinfo prints the media size").isTrue();
        assertThat(Long.parseLong(media.group(1))).as("vhdiinfo").isEqualTo(size);
    }

    private static long qemuVirtualSize(Path file, String forceSizeCalc) {
        String info = forceSizeCalc == null
                ? Oracles.qemuImg("info", "--output=json", "-f", "vpc", file.toString())
                : Oracles.qemuImg(
                        "info",
                        "--output=json",
                        "--image-opts",
                        "driver=vpc,force_size_calc=" + forceSizeCalc + ",file.filename=" + file);
        Matcher size = Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(info);
        assertThat(size.find()).as(info).isTrue();
        return Long.parseLong(size.group(1));
    }
}
