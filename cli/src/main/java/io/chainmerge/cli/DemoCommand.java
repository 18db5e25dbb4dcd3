package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "demo",
        header = "Runs the whole system on this machine (or, --offline, one merge).",
        mixinStandardHelpOptions = true,
        description =
                "Runs the whole system on this machine: a single-node Kafka broker (KRaft, from Kafka's own jars), a "
                        + "coordinator and two workers (two pools, each with its own temporary volumes), a small fleet of "
                        + "checkpoint chains (depth 1 to 4, a disk with two children, an orphan), and a merge campaign over "
                        + "it with live progress; then prints the report and checks every chain reads what it read before. "
                        + "With --offline: merges one chain in this process only.")
final class DemoCommand implements Callable<Integer> {
    private static final long SIZE = 256L << 20;

    @Option(names = "--dir", paramLabel = "DIR", description = "work in DIR instead of a new temporary folder")
    Path dir;

    @Option(names = "--keep", description = "keep the folder afterwards")
    boolean keep;

    @Mixin
    Output output;

    /**
     * What {@code --json} prints once the demo is over; its story goes to standard error then.
     *
     * @param api the coordinator's API and how to call it (null with --offline)
     */
    record Outcome(boolean ok, double seconds, Path work, List<DemoFleet.Check> checks, Api api) {}

    /** The demo coordinator's address, the operator token it made, and a call of its API with that token. */
    record Api(String url, Path tokenFile, String example) {}

    @Option(
            names = "--serve",
            description = "after the campaign, keep the broker, coordinators and workers up and print the dashboard's"
                    + " address and how to sign in; runs until interrupted (Ctrl-C stops every daemon cleanly)")
    boolean serve;

    @Option(
            names = "--offline",
            description = "merge one chain in this process, without Kafka, a coordinator or workers")
    boolean offline;

    @Override
    public Integer call() throws Exception {
        if (serve && offline) {
            output.err().println("chainmerge demo: --serve needs the whole system; it cannot go with --offline");
            output.err().flush();
            return ExitCodes.USAGE;
        }
        PrintWriter out = output.json() ? output.err() : output.out();
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("chainmerge-demo");
        // With --serve, Ctrl-C's shutdown hook waits for this: the daemons closed, the check printed, the folder gone.
        CountDownLatch finished = new CountDownLatch(1);
        try {
            Outcome outcome = offline
                    ? offline(out, work)
                    : new FleetDemo(out, output.json() ? System.err : System.out, work, serve ? finished : null).run();
            if (output.json()) {
                output.printJson(outcome);
            }
            return outcome.ok() ? ExitCodes.OK : ExitCodes.FAILURE;
        } finally {
            if (!keep && dir == null) {
                deleteTree(work);
            }
            finished.countDown();
        }
    }

    private Outcome offline(PrintWriter out, Path work) throws Exception {
        long started = System.nanoTime();
        out.println("chainmerge demo (offline) in " + work);
        Random random = new Random(2026);
        Path base = work.resolve("vm01.vhdx");
        try (VirtualDisk disk = DiskFiles.create(base, DiskSpec.dynamic(SIZE).withBlockSize(2 << 20))) {
            writeLikeAVm(disk, random, 24);
            out.printf(
                    "  created %s (%s dynamic) and wrote %d regions%n", base.getFileName(), ByteSize.format(SIZE), 24);
        }
        Path top = base;
        for (int level = 1; level <= 3; level++) {
            Path checkpoint = work.resolve("vm01_checkpoint" + level + ".avhdx");
            try (VirtualDisk parent = DiskFiles.open(top, Access.READ);
                    VirtualDisk child = DiskFiles.createDifferencing(checkpoint, parent)) {
                writeLikeAVm(child, random, 12);
            }
            out.printf("  checkpoint %s over %s, 12 writes%n", checkpoint.getFileName(), top.getFileName());
            top = checkpoint;
        }
        String before = digest(top);
        out.println("  chain content sha256 " + before);

        Path middle = work.resolve("vm01_checkpoint2.avhdx");
        MergeReport first = Merge.run(MergeRequest.of(middle), MergeProgress.NONE);
        out.printf(
                "  merged %s into %s (%s), re-pointed %s%n",
                middle.getFileName(),
                first.plan().destination().getFileName(),
                ByteSize.format(first.bytesMerged()),
                first.repointedChildren().stream()
                        .map(p -> p.getFileName().toString())
                        .toList());
        MergeReport rest = Merge.run(MergeRequest.of(top).withDestination(base), MergeProgress.NONE);
        out.printf(
                "  merged %s into %s in one pass (%s)%n",
                rest.plan().sources().stream()
                        .map(p -> p.getFileName().toString())
                        .toList(),
                base.getFileName(),
                ByteSize.format(rest.bytesMerged()));
        String after = digest(base);
        out.println("  merged disk sha256  " + after);
        boolean same = before.equals(after);
        out.println(
                same ? "OK: the merged disk reads exactly what the chain read" : "MISMATCH: the merged disk differs");
        out.flush();
        return new Outcome(
                same,
                (System.nanoTime() - started) / 1e9,
                work,
                List.of(new DemoFleet.Check(base.getFileName().toString(), "reads what the chain read", same)),
                null);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static void writeLikeAVm(VirtualDisk disk, Random random, int writes) throws IOException {
        for (int i = 0; i < writes; i++) {
            int sectors = 1 + random.nextInt(i % 4 == 0 ? 4096 : 64);
            long at = (long) (random.nextDouble() * (SIZE / 512 - sectors)) * 512;
            byte[] data = new byte[sectors * 512];
            random.nextBytes(data);
            disk.write(at, ByteBuffer.wrap(data));
        }
    }

    private static String digest(Path top) throws IOException {
        return DemoFleet.digest(top);
    }
}
