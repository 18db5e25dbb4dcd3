package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.scan.ScanProblem;
import io.chainmerge.disk.scan.ScanReport;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import io.chainmerge.disk.scan.VolumeSpace;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
        name = "scan",
        header = "Lists every disk under some folders as chain trees.",
        mixinStandardHelpOptions = true,
        description = "Finds every .vhdx/.avhdx/.vhd/.avhd under the folders and shows them as chain trees: roots, "
                + "children, depth, disks with several children, orphans (missing or modified parent), sizes, "
                + "interrupted merges, and each volume's free space. Reads headers only.")
final class ScanCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "1..*", description = "folders to scan, recursively")
    List<Path> dirs = new ArrayList<>();

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        ScanReport report = VolumeScan.scan(dirs);
        PrintWriter out = output.out();
        if (output.json()) {
            output.printJson(report);
            return ExitCodes.OK;
        }
        for (ScannedDisk root : report.chainRoots()) {
            printTree(out, report, root, "", "");
        }
        List<ScannedDisk> broken = report.disks().stream()
                .filter(d -> d.parent() == null && d.link() != io.chainmerge.disk.scan.LinkStatus.ROOT)
                .toList();
        if (!broken.isEmpty()) {
            out.println("orphaned or invalid (not merged):");
            for (ScannedDisk disk : broken) {
                printTree(out, report, disk, "  ", "  ");
            }
        }
        if (!report.pendingMerges().isEmpty()) {
            out.println("interrupted merges (run the same merge again to finish each):");
            report.pendingMerges().forEach(journal -> out.println("  " + journal));
        }
        if (!report.problems().isEmpty()) {
            out.println("files that could not be read:");
            for (ScanProblem problem : report.problems()) {
                out.printf("  %s: %s: %s%n", problem.path(), problem.kind(), problem.message());
            }
        }
        out.println("volumes:");
        for (VolumeSpace volume : report.volumes()) {
            out.printf(
                    "  %s (%s): %s free of %s%n",
                    volume.mountPoint(),
                    volume.fileSystem(),
                    ByteSize.format(volume.usableBytes()),
                    ByteSize.format(volume.totalBytes()));
        }
        out.printf(
                "%d disks, %d chains, %d orphans%n",
                report.disks().size(),
                report.chainRoots().size(),
                report.orphans().size());
        return ExitCodes.OK;
    }

    private static void printTree(
            PrintWriter out, ScanReport report, ScannedDisk disk, String firstPrefix, String prefix) {
        String note =
                switch (disk.link()) {
                    case ROOT, LINKED -> "";
                    case MISSING_PARENT -> "  ORPHANED: parent missing";
                    case MODIFIED_PARENT -> "  ORPHANED: parent modified";
                    case INVALID_PARENT -> "  INVALID: " + disk.linkProblem();
                };
        String siblings = disk.hasSiblingChildren() ? "  (" + disk.children().size() + " children)" : "";
        out.printf(
                "%s%s  %s %s, %s virtual, %s file, depth %d%s%s%n",
                firstPrefix,
                disk.path(),
                disk.format(),
                disk.type().name().toLowerCase(),
                ByteSize.format(disk.virtualSize()),
                ByteSize.format(disk.fileSize()),
                disk.depth(),
                siblings,
                note);
        List<Path> children = disk.children();
        for (int i = 0; i < children.size(); i++) {
            ScannedDisk child = report.find(children.get(i));
            if (child == null) {
                continue;
            }
            boolean last = i == children.size() - 1;
            printTree(out, report, child, prefix + (last ? "└── " : "├── "), prefix + (last ? "    " : "│   "));
        }
    }
}
