package io.chainmerge.disk.pace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding the device under a volume: in a sysfs tree laid out as the kernel lays it out (partition,
 * device-mapper over a loop device, tmpfs without a device), and on this machine's own mounts.
 */
class BlockDeviceTest {
    @TempDir
    Path dir;

    private Path sys;
    private Path mountinfo;

    private void layOut() throws IOException {
        sys = dir.resolve("sys");
        Path sda = Files.createDirectories(sys.resolve("devices/pci0000:00/block/sda"));
        Path sda1 = Files.createDirectories(sda.resolve("sda1"));
        Files.writeString(sda.resolve("stat"), "1 0 0 0 1 0 0 0 0 0 0\n");
        Files.writeString(sda1.resolve("stat"), "   100 0 800 150 300 0 2400 450 0 0 0 0 0 0 0 0 0\n");
        Files.writeString(sda1.resolve("partition"), "1\n");
        Path loop0 = Files.createDirectories(sys.resolve("devices/virtual/block/loop0"));
        Files.writeString(loop0.resolve("stat"), "5 0 0 5 5 0 0 5 0 0 0\n");
        Files.createDirectories(loop0.resolve("loop"));
        Files.writeString(loop0.resolve("loop/backing_file"), "/var/lib/images/slow.img\n");
        Path dm0 = Files.createDirectories(sys.resolve("devices/virtual/block/dm-0"));
        Files.writeString(dm0.resolve("stat"), "10 0 0 200 10 0 0 200 0 0 0\n");
        Files.createDirectories(dm0.resolve("dm"));
        Files.writeString(dm0.resolve("dm/name"), "slow\n");
        Files.createDirectories(dm0.resolve("slaves"));
        Files.createSymbolicLink(dm0.resolve("slaves/loop0"), loop0);
        Files.createDirectories(sys.resolve("dev/block"));
        Files.createSymbolicLink(sys.resolve("dev/block/8:1"), sda1);
        Files.createSymbolicLink(sys.resolve("dev/block/7:0"), loop0);
        Files.createSymbolicLink(sys.resolve("dev/block/253:0"), dm0);
        Files.createDirectories(dir.resolve("mnt/vms"));
        Files.createDirectories(dir.resolve("mnt/fast disks/vms"));
        Files.createDirectories(dir.resolve("scratch"));
        String root = dir.toRealPath().toString();
        mountinfo = Files.writeString(
                dir.resolve("mountinfo"),
                String.join(
                        "\n",
                        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
                        "40 27 8:1 / " + root + "/mnt/fast\\040disks rw,relatime shared:5 - xfs /dev/sda1 rw",
                        "41 27 253:0 / " + root + "/mnt/vms rw,relatime - ext4 /dev/mapper/slow rw",
                        "42 27 0:45 / " + root + "/scratch rw,relatime - tmpfs tmpfs rw,size=1g",
                        ""));
    }

    @Test
    void aPartitionIsReadWithItsOwnCountersAndNamedWithItsDisk() throws IOException {
        layOut();
        BlockDevice.Mount mount = BlockDevice.Mount.of(dir.resolve("mnt/fast disks/vms"), mountinfo);
        assertThat(mount.fsType()).isEqualTo("xfs");
        BlockDevice device = mount.device(sys).orElseThrow();
        assertThat(device.name()).isEqualTo("sda1");
        assertThat(device.description()).isEqualTo("sda1 (partition of sda)");
        assertThat(device.read()).isEqualTo(new BlockDevice.Counters(400, 600));
    }

    @Test
    void aDeviceMapperTargetIsReadAsTheFileSystemSeesItAndNamesWhatItStandsOn() throws IOException {
        layOut();
        BlockDevice device = BlockDevice.Mount.of(dir.resolve("mnt/vms"), mountinfo)
                .device(sys)
                .orElseThrow();
        assertThat(device.name()).isEqualTo("dm-0");
        assertThat(device.description()).isEqualTo("dm-0 (device-mapper slow, over loop0)");
        Path loop = sys.resolve("dev/block/7:0");
        assertThat(new BlockDevice.Mount(Path.of("/x"), "ext4", "/dev/loop0", 7, 0)
                        .device(sys)
                        .orElseThrow()
                        .description())
                .isEqualTo("loop0 (loop over /var/lib/images/slow.img)");
        assertThat(loop).exists();
    }

    @Test
    void aFileSystemWithoutADeviceHasNone() throws IOException {
        layOut();
        BlockDevice.Mount mount = BlockDevice.Mount.of(dir.resolve("scratch"), mountinfo);
        assertThat(mount.toString()).isEqualTo("tmpfs at " + dir.toRealPath().resolve("scratch"));
        assertThat(mount.device(sys)).isEmpty();
    }

    @Test
    void latencyIsTheTimeSpentPerCompletedIoAndAnIdleDeviceHasNone() {
        BlockDevice.Counters before = new BlockDevice.Counters(1000, 5000);
        assertThat(BlockDevice.latencyNanos(before, new BlockDevice.Counters(1100, 8500)))
                .isEqualTo(OptionalLong.of(35_000_000));
        assertThat(BlockDevice.latencyNanos(before, before)).isEqualTo(OptionalLong.of(0));
        assertThat(BlockDevice.latencyNanos(before, new BlockDevice.Counters(10, 10)))
                .isEmpty();
    }

    @Test
    void damagedCountersAreAnErrorNamingTheFile() throws IOException {
        layOut();
        Path stat = sys.resolve("dev/block/8:1/stat");
        Files.writeString(stat, "1 2 3\n");
        BlockDevice device = BlockDevice.Mount.of(dir.resolve("mnt/fast disks"), mountinfo)
                .device(sys)
                .orElseThrow();
        org.assertj.core.api.Assertions.assertThatThrownBy(device::read)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("stat")
                .hasMessageContaining("at least 8");
    }

    @Test
    void thisMachinesRootFileSystemHasCountersThatMove() throws IOException {
        assumeThat(Path.of("/proc/self/mountinfo")).exists();
        assumeThat(Path.of("/sys/dev/block")).exists();
        BlockDevice.Mount mount = BlockDevice.Mount.of(dir);
        Optional<BlockDevice> device = mount.device(Path.of("/sys"));
        assumeThat(device).as(mount + " has no device here").isPresent();
        BlockDevice.Counters counters = device.get().read();
        assertThat(counters.ios()).isPositive();
    }
}
