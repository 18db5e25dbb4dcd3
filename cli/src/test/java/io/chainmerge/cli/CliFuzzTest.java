package io.chainmerge.cli;

import static io.chainmerge.cli.CliTest.chainmerge;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.testing.ChainFixture;
import io.chainmerge.disk.testing.Oracles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The command line under mutation: a VHDX and a VHD chain (a root and a child with data), damaged by a
 * seeded mutator where their structures are (headers, region tables, metadata, BAT and sector bitmaps,
 * footers, parent locators) and cut short, then given to every command that reads or writes. Whatever
 * the damage:
 *
 * <ul>
 *   <li>each command ends within 30 s with exit 0, 3 (refused) or 4 (bad input), never a stack trace;
 *   <li>a command that fails changes no byte of the chain and leaves no output behind;
 *   <li>one validation: {@code export} and {@code merge --dry-run} accept or refuse the same chains;
 *   <li>where libvhdi and chainmerge both read a VHDX chain, they read the same content. VHD chains are left out
 *       of this one: the fixture writes whole sectors, and libvhdi misreads a VHD sector bitmap's clear bits
 *       that follow set bits in one byte (../shared/FORMATS.md), while qemu misreads differencing VHD.
 * </ul>
 *
 * <p>A mutant with a finding is kept, damaged files and all, under {@code target/fuzz-findings/} with what was
 * done to it, to replay by hand; the seed and the mutant's number reproduce it.
 *
 * CI runs {@value #DEFAULT_COUNT} mutants of each format; {@code -Dchainmerge.fuzz.count=N} and
 * {@code -Dchainmerge.fuzz.seed=S} run others (docs/fuzzing.md).
 */
class CliFuzzTest {
    private static final int DEFAULT_COUNT = 40;
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vhdx", "vhd"})
    void everyCommandGivesATypedAnswerAndAFailureChangesNothing(String format) throws Exception {
        int count = Integer.getInteger("chainmerge.fuzz.count", DEFAULT_COUNT);
        long seed = Long.getLong("chainmerge.fuzz.seed", 1L);
        Random random = new Random(seed + format.hashCode());
        List<String> findings = new ArrayList<>();
        int[] compared = {0};
        for (int mutant = 0; mutant < count; mutant++) {
            Path folder = Files.createDirectories(dir.resolve(format + "-" + mutant));
            ChainFixture chain = ChainFixture.withRoot(
                            folder,
                            "base." + format,
                            DiskSpec.dynamic(16L * MIB).withBlockSize(2 * MIB),
                            mutant)
                    .write(4)
                    .child("base_1.a" + format)
                    .write(4);
            String damage = mutate(random, random.nextBoolean() ? chain.top() : chain.root());
            String name = format + " mutant " + mutant + " (" + damage + ")";
            List<String> found = check(name, chain, folder, format.equals("vhdx"), compared);
            if (!found.isEmpty()) {
                keep(folder, seed, name, found);
            }
            findings.addAll(found);
        }
        assertThat(findings).as("findings, seed %d", seed).isEmpty();
        if (format.equals("vhdx")) {
            // Most damage leaves a chain both read (junk appended, padding hit): the content check must have run.
            assertThat(compared[0])
                    .as("mutants both chainmerge and libvhdi read")
                    .isPositive();
        }
    }

    /** Runs every command on the damaged chain; returns what broke an invariant. */
    private static List<String> check(
            String mutant, ChainFixture chain, Path folder, boolean askLibvhdi, int[] compared) throws Exception {
        List<String> findings = new ArrayList<>();
        Path out = folder.resolve("out.raw");
        // Before any command writes: what libvhdi reads of the damaged chain, if it reads it at all.
        Path libvhdi =
                askLibvhdi ? libvhdiRead(chain, folder.getParent().resolve(folder.getFileName() + ".libvhdi")) : null;
        List<List<Object>> commands = List.of(
                List.of("inspect", chain.top(), "--json"),
                List.of("inspect", chain.top(), "--verify", "--json"),
                List.of("export", chain.top(), out),
                List.of("merge", chain.top(), "--dry-run", "--json"),
                List.of("set-parent", chain.top(), "--parent", chain.root()),
                List.of("merge", chain.top(), "--json"));
        Integer exportExit = null;
        Integer dryRunExit = null;
        for (List<Object> command : commands) {
            String before = digest(folder);
            CliTest.Run run = assertTimeoutPreemptively(
                    Duration.ofSeconds(30), () -> chainmerge(command.toArray()), mutant + ": " + command);
            String what = mutant + ": " + command.get(0) + " " + command.subList(2, command.size());
            if (run.exit() != 0 && run.exit() != ExitCodes.REFUSED && run.exit() != ExitCodes.INVALID_INPUT) {
                findings.add(what + " exited " + run.exit() + ": " + run.err().strip());
            }
            if (run.err().contains("\tat ") || run.err().contains("Exception")) {
                findings.add(what + " printed a stack trace or exception name: "
                        + run.err().strip());
            }
            if (run.exit() != 0) {
                Files.deleteIfExists(out); // counted below when it was left
                if (!digest(folder).equals(before)) {
                    findings.add(what + " failed (" + run.exit() + ") and changed the chain or left output");
                }
            }
            if (command.get(0).equals("export")) {
                exportExit = run.exit();
                if (run.exit() == 0 && libvhdi != null) {
                    compared[0]++;
                    if (!sha256(out).equals(sha256(libvhdi))) {
                        findings.add(what + " and libvhdi both read the chain, but not the same content");
                    }
                }
                Files.deleteIfExists(out);
            } else if (command.contains("--dry-run")) {
                dryRunExit = run.exit();
            }
        }
        if ((exportExit == ExitCodes.INVALID_INPUT) != (dryRunExit == ExitCodes.INVALID_INPUT)) {
            findings.add(mutant + ": export exited " + exportExit + " but merge --dry-run " + dryRunExit);
        }
        return findings;
    }

    /** The chain's content as libvhdi reads it, or null when libvhdi refuses it (then there is nothing to compare). */
    private static Path libvhdiRead(ChainFixture chain, Path raw) {
        Oracles.requireLibvhdi();
        return Oracles.vhdiReads(raw, chain.top(), chain.root()) ? raw : null;
    }

    /** Keeps a mutant with findings, its files and what happened, under target/fuzz-findings. */
    private static void keep(Path folder, long seed, String mutant, List<String> found) throws IOException {
        Path kept = Files.createDirectories(
                Path.of("target", "fuzz-findings", "seed-" + seed + "-" + folder.getFileName()));
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, kept.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(
                kept.resolve("FINDINGS.txt"), mutant + "\nseed " + seed + "\n" + String.join("\n", found) + "\n");
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Damages {@code file} in one seeded way; says how. */
    private static String mutate(Random random, Path file) throws IOException {
        long size = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int kind = random.nextInt(6);
            switch (kind) {
                case 5 -> { // one bit of one BAT entry: a state, a reserved bit or an offset
                    long[] bat = structures(file, size).batEntries();
                    if (bat == null) {
                        return "nothing (no BAT found in " + file.getFileName() + ")";
                    }
                    long at = bat[0] + bat[1] * random.nextInt((int) bat[2]) + random.nextInt((int) bat[1]);
                    ByteBuffer one = ByteBuffer.allocate(1);
                    channel.read(one, at);
                    byte b = one.get(0);
                    int bit = random.nextInt(8);
                    channel.write(ByteBuffer.wrap(new byte[] {(byte) (b ^ (1 << bit))}), at);
                    return "bit " + bit + " of byte " + at + " (a BAT entry) of " + file.getFileName() + " flipped";
                }
                case 0 -> { // flip bytes where the structures are: the first MiBs, and the end (a VHD's footer)
                    int flips = 1 + random.nextInt(8);
                    for (int i = 0; i < flips; i++) {
                        long at = structureOffset(random, file, size);
                        ByteBuffer one = ByteBuffer.allocate(1);
                        channel.read(one, at);
                        one.flip();
                        byte b = one.get(0);
                        channel.write(ByteBuffer.wrap(new byte[] {(byte) (b ^ (1 << random.nextInt(8)))}), at);
                    }
                    return flips + " bit flips in " + file.getFileName();
                }
                case 1 -> { // an 8-byte field set to a random value (a BAT entry, an offset, a size)
                    long at = structureOffset(random, file, size) & ~7L;
                    channel.write(ByteBuffer.allocate(8).putLong(0, random.nextLong()), at);
                    return "u64 at " + at + " of " + file.getFileName();
                }
                case 2 -> { // a 4 KiB page zeroed
                    long at = structureOffset(random, file, size) & ~4095L;
                    channel.write(ByteBuffer.allocate(4096), at);
                    return "page at " + at + " of " + file.getFileName() + " zeroed";
                }
                case 3 -> { // cut short
                    long to = random.nextLong(size);
                    channel.truncate(to);
                    return file.getFileName() + " cut to " + to;
                }
                default -> { // junk appended
                    byte[] junk = new byte[1 + random.nextInt(8192)];
                    random.nextBytes(junk);
                    channel.write(ByteBuffer.wrap(junk), size);
                    return junk.length + " bytes appended to " + file.getFileName();
                }
            }
        }
    }

    /**
     * Where a file's structures are: three times in four inside one the file's own tables name (see
     * {@link #structures}), else anywhere in its first 4 MiB or its last 4 KiB.
     */
    private static long structureOffset(Random random, Path file, long size) throws IOException {
        List<long[]> structures = structures(file, size).structures();
        if (!structures.isEmpty() && random.nextInt(4) != 0) {
            long[] structure = structures.get(random.nextInt(structures.size()));
            return Math.min(size - 1, structure[0] + random.nextLong(Math.max(1, structure[1])));
        }
        if (random.nextInt(4) == 0) {
            return Math.max(0, size - 1 - random.nextInt(4096));
        }
        return random.nextLong(Math.min(size, 4L * MIB));
    }

    /**
     * The used bytes of the structures a reader trusts, as {offset, length}: for VHDX the headers, the
     * region tables' entries, the BAT's entries and the metadata table; for VHD the footer, the dynamic
     * header with its parent locators, the BAT's entries and the first block's sector bitmap. Read from
     * the undamaged file, plainly (MS-VHDX 2.2, 2.5; VHD specification), so the damage lands where it
     * counts rather than in padding.
     */
    private static Layout structures(Path file, long size) throws IOException {
        List<long[]> structures = new ArrayList<>();
        long[] batEntries = null;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (file.toString().endsWith("vhdx")) {
                structures.add(new long[] {64 * 1024, 4096});
                structures.add(new long[] {128 * 1024, 4096});
                ByteBuffer table = read(channel, 192 * 1024, 16 + 32 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                int entries = Math.min(8, table.getInt(8));
                structures.add(new long[] {192 * 1024, 16 + 32L * entries});
                for (int i = 0; i < entries; i++) {
                    int at = 16 + 32 * i;
                    long offset = table.getLong(at + 16);
                    boolean bat = table.getInt(at) == 0x2dc27766; // the BAT region's GUID, first field
                    structures.add(new long[] {offset, bat ? 8 * 32 : 64 * 1024});
                    if (bat) {
                        batEntries = new long[] {offset, 8, 32};
                    }
                }
            } else {
                ByteBuffer footer = read(channel, size - 512, 512);
                structures.add(new long[] {size - 512, 512});
                long header = footer.getLong(16);
                if (header > 0 && header < size) {
                    structures.add(new long[] {header, 1024});
                    ByteBuffer dynamic = read(channel, header, 1024);
                    long bat = dynamic.getLong(16);
                    int entries = dynamic.getInt(28);
                    structures.add(new long[] {bat, 4L * Math.min(entries, 64)});
                    batEntries = new long[] {bat, 4, Math.min(entries, 64)};
                    ByteBuffer first = read(channel, bat, 4);
                    long firstBlock = Integer.toUnsignedLong(first.getInt(0)) * 512;
                    if (firstBlock != 0xffffffffL * 512 && firstBlock < size) {
                        structures.add(new long[] {firstBlock, 512});
                    }
                }
            }
        }
        structures.removeIf(structure -> structure[0] < 0 || structure[0] >= size);
        return new Layout(structures, batEntries != null && batEntries[0] < size ? batEntries : null);
    }

    /** A file's structures, and where its BAT's entries are: {offset, entry size, entries}, or null. */
    private record Layout(List<long[]> structures, long[] batEntries) {}

    private static ByteBuffer read(FileChannel channel, long at, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        channel.read(buffer, at);
        return buffer.flip();
    }

    /** Every file in the folder, names and contents. */
    private static String digest(Path folder) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.sorted().toList()) {
                sha.update(file.getFileName().toString().getBytes());
                if (Files.isRegularFile(file)) {
                    sha.update(Files.readAllBytes(file));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
