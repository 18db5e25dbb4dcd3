package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.DiskType;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.testing.ChildJvm;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fuzzer's seed corpus: one small valid file of each kind, packed as {@link VhdxFuzzImage}
 * inputs under {@code src/test/resources/.../VhdxFuzzTestInputs/<method>/seed-*}. They are committed,
 * and rewritten only on request:
 *
 * <pre>
 * mvn -B -ntp test -pl disk -am -Dtest=VhdxFuzzSeeds -Dchainmerge.fuzz.writeSeeds=true
 * </pre>
 *
 * Content comes from fixed seeds; GUIDs and qemu's sequence numbers are new each time, so a rewrite
 * changes bytes but not what the files exercise. The always-on test keeps the committed seeds honest:
 * each must still be a file the engine opens and verifies, or the fuzzer would start from nothing.
 */
class VhdxFuzzSeeds {
    static final Path INPUTS = Path.of(
            "src/test/resources/io/chainmerge/disk/vhdx/VhdxFuzzTestInputs/anyBytesGetATypedAnswerAndOnlyValidFilesAreWritten");
    static final List<String> KINDS = List.of(
            "seed-engine-dynamic",
            "seed-engine-fixed",
            "seed-engine-4k-sectors",
            "seed-engine-child",
            "seed-engine-child-linkage2",
            "seed-engine-pending-log",
            "seed-engine-pending-log-2-entries",
            "seed-engine-pending-log-zero-descriptor",
            "seed-engine-pending-log-extends-file",
            "seed-engine-20g-dynamic",
            "seed-qemu-dynamic",
            "seed-qemu-fixed");
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void everyCommittedSeedIsAValidFileOfItsKind() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> inputs = Files.list(resourceInputs())) {
            for (Path seed : (Iterable<Path>)
                    inputs.filter(p -> p.getFileName().toString().startsWith("seed-"))::iterator) {
                Path file = dir.resolve(seed.getFileName() + ".vhdx");
                VhdxFuzzImage.decode(Files.readAllBytes(seed), file);
                try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
                    disk.verify();
                    if (seed.getFileName().toString().contains("child")
                            || seed.getFileName().toString().contains("pending-log")) {
                        assertThat(disk.type()).isEqualTo(DiskType.DIFFERENCING);
                    }
                    if (seed.getFileName().toString().contains("pending-log")) {
                        assertThat(disk.details()).containsEntry("logReplayedInMemory", true);
                    }
                }
                found.add(seed.getFileName().toString());
            }
        }
        assertThat(found).containsExactlyInAnyOrderElementsOf(KINDS);
    }

    private static Path resourceInputs() {
        try {
            return Path.of(VhdxFuzzSeeds.class
                    .getResource("VhdxFuzzTestInputs/anyBytesGetATypedAnswerAndOnlyValidFilesAreWritten")
                    .toURI());
        } catch (java.net.URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "chainmerge.fuzz.writeSeeds", matches = "true")
    void writeSeeds() throws Exception {
        Oracles.requireQemu();
        TreeMap<String, Path> files = new TreeMap<>();
        Random random = new Random(42);

        Path dynamic = engine("engine-dynamic", DiskSpec.dynamic(8 * MIB).withBlockSize((int) MIB), random);
        files.put("seed-engine-dynamic", dynamic);
        files.put(
                "seed-engine-fixed",
                engine(
                        "engine-fixed",
                        DiskSpec.dynamic(2 * MIB).withBlockSize((int) MIB).withType(DiskType.FIXED),
                        random));
        files.put(
                "seed-engine-4k-sectors",
                engine(
                        "engine-4k",
                        DiskSpec.dynamic(8 * MIB).withBlockSize((int) (2 * MIB)).withLogicalSectorSize(4096),
                        random));

        Path child = dir.resolve("engine-dynamic_1.avhdx");
        try (VirtualDisk parent = DiskFiles.open(dynamic, Access.READ);
                VirtualDisk disk = DiskFiles.createDifferencing(child, parent)) {
            write(disk, random, 512, 512);
            write(disk, random, 3 * MIB - 512, 1024);
            disk.writeZeros(6 * MIB, MIB);
        }
        files.put("seed-engine-child", child);

        Path linkage2 = Files.copy(child, dir.resolve("engine-dynamic_2.avhdx"));
        try (VirtualDisk disk = DiskFiles.open(linkage2, Access.WRITE)) {
            disk.acceptParentIdentity(Guids.random());
        }
        files.put("seed-engine-child-linkage2", linkage2);

        Path pending = Files.copy(child, dir.resolve("engine-dynamic_3.avhdx"));
        Path data = dir.resolve("data.bin");
        byte[] bytes = new byte[512];
        random.nextBytes(bytes);
        Files.write(data, bytes);
        ChildJvm.Outcome crashed = ChildJvm.run(
                "vhdx.commit.logged", "write", pending.toString(), String.valueOf(5 * MIB), data.toString());
        assertThat(crashed.crashedAtPoint()).as(crashed.output()).isTrue();
        files.put("seed-engine-pending-log", pending);
        files.put("seed-engine-pending-log-2-entries", craft(pending, "2-entries", VhdxFuzzSeeds::secondEntry));
        files.put("seed-engine-pending-log-zero-descriptor", craft(pending, "zero", VhdxFuzzSeeds::zeroDescriptor));
        files.put("seed-engine-pending-log-extends-file", craft(pending, "extends", VhdxFuzzSeeds::extendsFile));
        // Large enough for sector bitmap entries in a root's BAT (one after every 4096 payload entries).
        files.put(
                "seed-engine-20g-dynamic",
                engine("engine-20g", DiskSpec.dynamic(20L << 30).withBlockSize((int) MIB), random));

        files.put("seed-qemu-dynamic", qemu("qemu-dynamic", "dynamic", 8 * MIB));
        files.put("seed-qemu-fixed", qemu("qemu-fixed", "fixed", 2 * MIB));

        Files.createDirectories(INPUTS);
        for (var entry : files.entrySet()) {
            byte[] packed = VhdxFuzzImage.encode(entry.getValue(), VhdxFuzzImage.REPAIR_ALL);
            Files.write(INPUTS.resolve(entry.getKey()), packed);
        }
        assertThat(files.keySet()).containsExactlyInAnyOrderElementsOf(KINDS);
    }

    @FunctionalInterface
    private interface Edit {
        void apply(VhdxSurgery file, long entry) throws IOException;
    }

    /** A copy of a file with a pending log, its newest log entry edited and its checksum fixed. */
    private Path craft(Path pending, String name, Edit edit) throws IOException {
        Path copy = Files.copy(pending, dir.resolve("pending-" + name + ".avhdx"));
        try (VhdxSurgery surgery = VhdxSurgery.open(copy)) {
            List<Long> entries = surgery.logEntries();
            long entry = entries.get(entries.size() - 1);
            edit.apply(surgery, entry);
            surgery.fixLogEntry(entry);
        }
        return copy;
    }

    /**
     * A second entry after the first, with the next sequence number and the first as its tail: an
     * active sequence of two (MS-VHDX 2.3.2). It carries the same writes, so replay is unchanged.
     */
    private static void secondEntry(VhdxSurgery file, long entry) throws IOException {
        int length = (int) file.u32(entry + 8);
        long next = entry + length;
        long sequence = file.u64(entry + 16) + 1;
        int count = (int) file.u32(entry + 24);
        file.put(next, file.get(entry, length));
        file.putU32(next + 12, entry - file.logOffset()).putU64(next + 16, sequence);
        int descriptorSectors = (count + 2 + 127) / 128;
        int dataSector = descriptorSectors;
        for (int i = 0; i < count; i++) {
            long descriptor = next + (i < 126 ? 64 + i * 32L : 4096 + (i - 126) * 32L);
            file.putU64(descriptor + 24, sequence);
            if (file.u32(descriptor) == 0x63736564L) { // "desc": it has a data sector
                long data = next + dataSector++ * 4096L;
                file.putU32(data + 4, sequence >>> 32).putU32(data + 4092, sequence);
            }
        }
        file.fixLogEntry(next);
    }

    /** A zero descriptor after the data descriptors: the first 8 KiB of the sector bitmap. */
    private static void zeroDescriptor(VhdxSurgery file, long entry) throws IOException {
        long count = file.u32(entry + 24);
        long descriptor = entry + 64 + count * 32;
        long bitmap = (file.batEntry(4096) >>> 20) * MIB;
        file.putAscii(descriptor, "zero")
                .putU32(descriptor + 4, 0)
                .putU64(descriptor + 8, 8192)
                .putU64(descriptor + 16, bitmap)
                .putU64(descriptor + 24, file.u64(entry + 16));
        file.putU32(entry + 24, count + 1);
    }

    /** A LastFileOffset 1 MiB past the end: replaying extends the file (MS-VHDX 2.3.3). */
    private static void extendsFile(VhdxSurgery file, long entry) throws IOException {
        file.putU64(entry + 56, (file.size() + MIB - 1) / MIB * MIB + MIB);
    }

    private Path engine(String name, DiskSpec spec, Random random) throws IOException {
        Path file = dir.resolve(name + ".vhdx");
        try (VirtualDisk disk = DiskFiles.create(file, spec)) {
            // Sector-sized writes: payload bytes only make inputs longer for the fuzzer to mutate.
            write(disk, random, 0, spec.logicalSectorSize());
            write(disk, random, spec.virtualSize() - 4096, spec.logicalSectorSize());
        }
        return file;
    }

    private Path qemu(String name, String subformat, long size) {
        Path file = dir.resolve(name + ".vhdx");
        Oracles.qemuCreateVhdx(file, subformat, "1M", size);
        Oracles.qemuIo(file, "vhdx", "write -P 0x5a 0 512", "write -P 0xa5 " + (size - 4096) + " 512");
        return file;
    }

    private static void write(VirtualDisk disk, Random random, long offset, int length) throws IOException {
        byte[] data = new byte[length];
        random.nextBytes(data);
        disk.write(offset, ByteBuffer.wrap(data));
    }
}
