package io.chainmerge.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VolumeRootsTest {
    @TempDir
    Path volume;

    @TempDir
    Path outside;

    @Test
    void acceptsPathsUnderARootAndNewFilesInsideIt() throws Exception {
        Files.createDirectories(volume.resolve("vms"));
        Files.writeString(volume.resolve("vms/a.vhdx"), "x");
        VolumeRoots roots = new VolumeRoots(List.of(volume));
        Path real = volume.toRealPath();
        assertThat(roots.resolve(volume + "/vms/./a.vhdx")).isEqualTo(real.resolve("vms/a.vhdx"));
        assertThat(roots.resolve(volume + "/vms/new/flat.vhdx")).isEqualTo(real.resolve("vms/new/flat.vhdx"));
        assertThat(roots.volumeOf(real.resolve("vms/a.vhdx"))).contains(real);
    }

    @Test
    void rejectsPathsThatLeaveTheRootsByDotDotOrThroughALink() throws Exception {
        Files.createSymbolicLink(volume.resolve("escape"), outside);
        Files.createDirectories(volume.resolve("vms"));
        Files.createSymbolicLink(volume.resolve("vms/up"), volume.resolve("escape"));
        VolumeRoots roots = new VolumeRoots(List.of(volume));
        for (String path : List.of(
                outside + "/x.vhdx",
                volume + "/../" + outside.getFileName() + "/x.vhdx",
                volume + "/escape/x.vhdx",
                volume + "/vms/up/new.vhdx",
                // "link/.." is the link target's parent, as the kernel resolves it, not the folder holding the link
                volume + "/escape/../" + outside.getFileName() + "/x.vhdx")) {
            assertThatThrownBy(() -> roots.resolve(path))
                    .as(path)
                    .isInstanceOf(VolumeRoots.OutsideVolumeRoots.class)
                    .hasMessageContaining("outside this worker's volume roots");
        }
        assertThatThrownBy(() -> roots.resolve("relative/x.vhdx")).isInstanceOf(IllegalArgumentException.class);
    }
}
