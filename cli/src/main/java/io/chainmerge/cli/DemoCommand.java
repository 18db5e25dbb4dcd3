package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeReport;
import io.chainmerge.disk.merge.MergeRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Builds a small checkpoint chain in a temporary folder (a base disk and three checkpoints written",
            "like a VM would), merges it bottom-up, and checks the merged disk reads exactly what the chain read."
        })
final class DemoCommand implements Callable<Integer> {
    private static final long SIZE = 256L << 20;

    @Option(names = "--dir", paramLabel = "DIR", description = "work in DIR instead of a new temporary folder")
    Path dir;

    @Option(names = "--keep", description = "keep the folder afterwards")
    boolean keep;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("chainmerge-demo");
        out.println("chainmerge demo in " + work);
        Random random = new Random(2026);
        Path base = work.resolve("vm01.vhdx");
        try (VirtualDisk disk = VirtualDisk.create(base, DiskSpec.dynamic(SIZE).withBlockSize(2 << 20))) {
            writeLikeAVm(disk, random, 24);
            out.printf(
                    "  created %s (%s dynamic) and wrote %d regions%n", base.getFileName(), ByteSize.format(SIZE), 24);
        }
        Path top = base;
        for (int level = 1; level <= 3; level++) {
            Path checkpoint = work.resolve("vm01_checkpoint" + level + ".avhdx");
            try (VirtualDisk parent = VirtualDisk.open(top, Access.READ);
                    VirtualDisk child = VirtualDisk.createDifferencing(checkpoint, parent)) {
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
        if (!keep && dir == null) {
            try (var files = Files.list(work)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.delete(file);
                }
            }
            Files.delete(work);
        }
        return same ? ExitCodes.OK : ExitCodes.FAILURE;
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

    private static String digest(Path top) throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Chain chain = Chain.open(top, Access.READ)) {
            ChainReader reader = new ChainReader(chain);
            ByteBuffer buffer = ByteBuffer.allocate(4 << 20);
            for (long at = 0; at < reader.virtualSize(); at += buffer.capacity()) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), reader.virtualSize() - at));
                reader.read(at, buffer);
                sha.update(buffer.flip());
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
