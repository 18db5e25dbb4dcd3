package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.io.LockedFile;
import io.chainmerge.disk.io.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * A small realistic fleet on two pools: base disks, checkpoint chains of depth 1 to 4, a disk with two
 * children (a checkpoint tree), an orphan whose base was deleted, and a lone base disk. It remembers
 * what every chain reads (SHA-256 of the virtual disk) so the merged fleet can be checked against it.
 */
final class DemoFleet {
    static final long SIZE = 128L << 20;

    /** After the campaign, {@code readBy} must read what {@code before} read. {@code mustRemain}: files that must not change. */
    record Expectation(String label, Path readBy, String digest, List<Path> gone) {}

    private final Random random = new Random(2026);
    private final List<Expectation> expectations = new ArrayList<>();
    private final List<Path> untouched = new ArrayList<>();
    private final List<String> untouchedDigests = new ArrayList<>();

    List<Expectation> expectations() {
        return expectations;
    }

    /** pool-a: {@code a1} (two linear chains), {@code a2} (a checkpoint tree, a lone disk); pool-b: {@code b1} (two chains, an orphan). */
    void build(Path a1, Path a2, Path b1, PrintWriter out) throws IOException {
        chain(a1, "vm01", 3, out);
        chain(a1, "vm02", 1, out);
        tree(a2, "web", out);
        lone(a2, "file01", out);
        chain(b1, "db01", 2, out);
        chain(b1, "app", 1, out);
        orphan(b1, "lost", out);
    }

    private void chain(Path volume, String name, int checkpoints, PrintWriter out) throws IOException {
        Path root = root(volume.resolve(name + ".vhdx"));
        Path top = root;
        List<Path> checkpointFiles = new ArrayList<>();
        for (int level = 1; level <= checkpoints; level++) {
            top = child(volume.resolve(name + "_" + level + ".avhdx"), top);
            checkpointFiles.add(top);
        }
        expectations.add(new Expectation(name, root, digest(top), checkpointFiles));
        out.printf(
                "  %-28s base disk and %d checkpoint%s (depth %d)%n",
                volume.getFileName() + "/" + name, checkpoints, checkpoints == 1 ? "" : "s", checkpoints + 1);
    }

    private void tree(Path volume, String name, PrintWriter out) throws IOException {
        Path root = root(volume.resolve(name + ".vhdx"));
        Path base = child(volume.resolve(name + "_base.avhdx"), root);
        Path a = child(volume.resolve(name + "_a.avhdx"), base);
        Path b = child(volume.resolve(name + "_b.avhdx"), base);
        expectations.add(new Expectation(name + "_a", a, digest(a), List.of(base)));
        expectations.add(new Expectation(name + "_b", b, digest(b), List.of()));
        out.printf(
                "  %-28s base disk, a shared checkpoint, and two checkpoints over it (siblings)%n",
                volume.getFileName() + "/" + name);
    }

    private void lone(Path volume, String name, PrintWriter out) throws IOException {
        Path root = root(volume.resolve(name + ".vhdx"));
        keep(root);
        out.printf("  %-28s a base disk with no checkpoint%n", volume.getFileName() + "/" + name);
    }

    private void orphan(Path volume, String name, PrintWriter out) throws IOException {
        Path root = root(volume.resolve(name + ".vhdx"));
        Path one = child(volume.resolve(name + "_1.avhdx"), root);
        Path two = child(volume.resolve(name + "_2.avhdx"), one);
        Files.delete(root);
        keep(one);
        keep(two);
        out.printf(
                "  %-28s two checkpoints whose base disk was deleted (orphans)%n", volume.getFileName() + "/" + name);
    }

    private void keep(Path file) throws IOException {
        untouched.add(file);
        untouchedDigests.add(fileDigest(file));
    }

    /** One expectation checked after the campaign: what was looked at, and whether it held. */
    record Check(String disk, String expectation, boolean ok) {}

    /** Checks every expectation, printing a line each. */
    List<Check> verify(PrintWriter out) throws IOException {
        List<Check> checks = new ArrayList<>();
        for (Expectation e : expectations) {
            boolean gone = e.gone().stream().noneMatch(Files::exists);
            boolean same = Files.exists(e.readBy()) && digest(e.readBy()).equals(e.digest());
            String expectation = "reads the same through " + e.readBy().getFileName()
                    + (e.gone().isEmpty() ? "" : gone ? "; merged files removed" : "; merged files still there");
            out.printf("  %-8s %-10s %s%n", same && gone ? "OK" : "MISMATCH", e.label(), expectation);
            checks.add(new Check(e.label(), expectation, same && gone));
        }
        for (int i = 0; i < untouched.size(); i++) {
            boolean same = Files.exists(untouched.get(i))
                    && fileDigest(untouched.get(i)).equals(untouchedDigests.get(i));
            String name = untouched.get(i).getFileName().toString();
            out.printf("  %-8s %-10s left byte for byte as it was%n", same ? "OK" : "CHANGED", name);
            checks.add(new Check(name, "left byte for byte as it was", same));
        }
        out.flush();
        return checks;
    }

    private Path root(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.create(file, DiskSpec.dynamic(SIZE).withBlockSize(1 << 20))) {
            write(disk, 16);
        }
        return file;
    }

    private Path child(Path file, Path parent) throws IOException {
        try (VirtualDisk p = DiskFiles.open(parent, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(file, p)) {
            write(disk, 10);
        }
        return file;
    }

    /** Writes like a VM: runs of sectors at random places, some large. */
    private void write(VirtualDisk disk, int writes) throws IOException {
        for (int i = 0; i < writes; i++) {
            int sectors = 64 + random.nextInt(i % 3 == 0 ? 4096 : 512);
            long at = (long) (random.nextDouble() * (SIZE / 512 - sectors)) * 512;
            byte[] data = new byte[sectors * 512];
            random.nextBytes(data);
            disk.write(at, ByteBuffer.wrap(data));
        }
        disk.commit();
    }

    /** SHA-256 of what the chain topped by {@code top} reads, as a VM would see it. */
    static String digest(Path top) throws IOException {
        try (Chain chain = Chain.open(top, Access.READ)) {
            ChainReader reader = new ChainReader(chain);
            MessageDigest sha = Sha256.newDigest();
            ByteBuffer buffer = ByteBuffer.allocate(4 << 20);
            for (long at = 0; at < reader.virtualSize(); at += buffer.capacity()) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), reader.virtualSize() - at));
                reader.read(at, buffer);
                sha.update(buffer.flip());
            }
            return HexFormat.of().formatHex(sha.digest());
        }
    }

    private static String fileDigest(Path file) throws IOException {
        try (LockedFile locked = LockedFile.open(file, Access.READ)) {
            return locked.sha256();
        }
    }
}
