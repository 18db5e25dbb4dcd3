package io.chainmerge.disk.scan;

import java.nio.file.Path;
import java.util.List;

/**
 * Every disk file found under the scanned folders, linked into trees, with each volume's space.
 *
 * @param pendingMerges journals of merges a crash interrupted; running the merge again finishes each
 */
public record ScanReport(
        List<Path> roots,
        List<ScannedDisk> disks,
        List<VolumeSpace> volumes,
        List<ScanProblem> problems,
        List<Path> pendingMerges) {

    public ScanReport {
        roots = List.copyOf(roots);
        disks = List.copyOf(disks);
        volumes = List.copyOf(volumes);
        problems = List.copyOf(problems);
        pendingMerges = List.copyOf(pendingMerges);
    }

    public List<ScannedDisk> chainRoots() {
        return disks.stream().filter(d -> d.link() == LinkStatus.ROOT).toList();
    }

    public List<ScannedDisk> orphans() {
        return disks.stream().filter(ScannedDisk::isOrphan).toList();
    }

    public ScannedDisk find(Path path) {
        return disks.stream().filter(d -> d.path().equals(path)).findFirst().orElse(null);
    }
}
