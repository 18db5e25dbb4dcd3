package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.io.Sha256;
import io.chainmerge.disk.merge.Reserve;
import io.chainmerge.disk.transplant.FileJournal;
import io.chainmerge.disk.transplant.LocalSource;
import io.chainmerge.disk.transplant.Transplant;
import io.chainmerge.disk.transplant.TransplantFile;
import io.chainmerge.disk.transplant.TransplantReport;
import io.chainmerge.disk.transplant.TransplantRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "transplant",
        header = "Moves disks of a chain to another folder, re-pointing children.",
        mixinStandardHelpOptions = true,
        description =
                "Moves disks of a chain to another folder, as Move-VHD and then Set-VHD -ParentPath on their children: "
                        + "each file is copied, flushed and checked by SHA-256, the copies are linked to each other and to the "
                        + "parent that stays, the children left behind are re-pointed at the copies, and only then are the "
                        + "sources removed. DISK... are consecutive levels of one chain, newest first. Refused (exit code 3) "
                        + "when a disk of the chain is in use or DIR's volume lacks room; a file in the way is an error (2). "
                        + "Killed at any instant, the chain reads the same; running the same command again finishes it.")
final class TransplantCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DISK", arity = "1..*", description = "the disks to move, newest first")
    List<Path> disks;

    @Option(names = "--to", required = true, paramLabel = "DIR", description = "the folder to move them into")
    Path to;

    @Option(names = "--copy", description = "copy only: leave the sources and their children as they are")
    boolean copy;

    @Option(
            names = "--room-for-merge",
            paramLabel = "SIZE",
            defaultValue = "0",
            description = "space to leave on DIR's volume beyond the files and the reserve, for a merge there")
    String roomForMerge;

    @Option(
            names = "--reserve",
            paramLabel = "SIZE|N%",
            description = "space to leave free on DIR's volume (default: 1G or 5%%, whichever is smaller)")
    String reserve;

    @Option(names = "--rate", paramLabel = "RATE", defaultValue = "0", description = "e.g. 200MiB/s; 0 for no limit")
    String rate;

    @Mixin
    InUseOptions inUseOptions;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        Path target = to.toAbsolutePath().normalize();
        List<Path> sources =
                disks.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        TransplantRequest request = new TransplantRequest(
                target,
                !copy,
                ByteSize.parse(roomForMerge),
                reserve == null ? Reserve.DEFAULT : Reserve.parse(reserve),
                MergeOptions.parseRate(rate),
                3);
        // One journal per transplant (these disks to this folder), beside the copies, so a re-run finds it.
        FileJournal journal =
                FileJournal.open(target.resolve(".chainmerge").resolve("transplant-" + idOf(sources, target)));
        TransplantReport report = Transplant.run(
                request,
                () -> LocalSource.open(sources, target, inUseOptions.check()),
                LocalSource::removeSource,
                journal,
                bytes -> {});
        journal.delete();
        try {
            java.nio.file.Files.deleteIfExists(journal.file().getParent());
        } catch (java.nio.file.DirectoryNotEmptyException others) {
            // another transplant into this folder is under way: its journal stays
        }
        if (output.json()) {
            output.printJson(report);
            return ExitCodes.OK;
        }
        for (TransplantFile file : report.files()) {
            output.out()
                    .printf(
                            "%s %s -> %s (%s, sha256 %s)%n",
                            copy ? "copied" : "moved",
                            file.source(),
                            file.target(),
                            ByteSize.format(file.bytes()),
                            file.sha256());
        }
        for (Path child : report.repointed()) {
            output.out().printf("%s now points at the moved disk%n", child);
        }
        if (report.resumed()) {
            output.out().println("(finished a transplant an earlier run had begun)");
        }
        return ExitCodes.OK;
    }

    private static String idOf(List<Path> sources, Path target) {
        String joined = String.join("\n", sources.stream().map(Path::toString).toList()) + "\n" + target;
        return HexFormat.of()
                .formatHex(Sha256.newDigest().digest(joined.getBytes(StandardCharsets.UTF_8)))
                .substring(0, 16);
    }
}
