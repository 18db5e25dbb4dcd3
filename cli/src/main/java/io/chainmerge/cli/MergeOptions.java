package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.merge.Reserve;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The options merge and preflight share, turned into a {@link MergeRequest}. */
final class MergeOptions {
    @Parameters(paramLabel = "CHILD", description = "the newest disk to merge (.avhdx/.avhd, or any differencing disk)")
    Path child;

    @ArgGroup(exclusive = true)
    Target target;

    static final class Target {
        @Option(
                names = "--destination",
                paramLabel = "ANCESTOR",
                description =
                        "merge every level from CHILD down to this ancestor into it, in one pass (default: CHILD's parent)")
        Path destination;

        @Option(
                names = "--into-new",
                paramLabel = "NEWFILE",
                description = "flatten the whole chain into a new standalone disk; every source stays as it is")
        Path intoNew;
    }

    @Option(
            names = "--type",
            paramLabel = "dynamic|fixed",
            defaultValue = "dynamic",
            description = "for --into-new: the new disk's type")
    String type;

    @Option(
            names = "--reserve",
            paramLabel = "SIZE|N%",
            description = "space to leave free on the destination's volume (default: 1G or 5%%, whichever is smaller)")
    String reserve;

    @Option(
            names = "--scan",
            paramLabel = "DIR",
            description =
                    "also look for other children of the disks the merge changes under DIR (default: each chain file's folder tree)")
    List<Path> scanRoots = new ArrayList<>();

    MergeRequest request() {
        MergeRequest request = MergeRequest.of(child).withScanRoots(scanRoots);
        if (reserve != null) {
            request = request.withReserve(Reserve.parse(reserve));
        }
        if (target != null && target.destination != null) {
            request = request.withDestination(target.destination);
        }
        if (target != null && target.intoNew != null) {
            DiskType diskType =
                    switch (type.toLowerCase(Locale.ROOT)) {
                        case "dynamic" -> DiskType.DYNAMIC;
                        case "fixed" -> DiskType.FIXED;
                        default -> throw new IllegalArgumentException("--type is dynamic or fixed, not " + type);
                    };
            request = request.withIntoNew(target.intoNew, diskType);
        }
        return request;
    }

    /** {@code 200MiB/s}, {@code 1G}, {@code 0} (no limit). */
    static long parseRate(String rate) {
        String value = rate.strip();
        if (value.toLowerCase(Locale.ROOT).endsWith("/s")) {
            value = value.substring(0, value.length() - 2);
        }
        return ByteSize.parse(value);
    }
}
