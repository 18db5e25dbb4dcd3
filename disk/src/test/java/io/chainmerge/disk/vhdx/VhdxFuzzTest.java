package io.chainmerge.disk.vhdx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.ParentPaths;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Coverage-guided fuzzing of the VHDX engine with Jazzer. Each input decodes ({@link VhdxFuzzImage})
 * to a file, which is then read whole, verified, opened for writing and, when it reads cleanly,
 * written to. Whatever the bytes:
 *
 * <ul>
 *   <li>the only errors are {@link CorruptDiskException} and {@link UnsupportedDiskException}; any
 *       other exception, an endless loop or a huge allocation is a finding;
 *   <li>a file refused for reading is refused for writing too, and stays byte for byte as it was;
 *   <li>a file that reads cleanly reads the same once a writable open has replayed its log into it
 *       as it did with the log replayed in memory, and takes the changes a merge makes (data, zeros,
 *       a new virtual disk id, a parent's next identity), which read back.
 * </ul>
 *
 * Without {@code JAZZER_FUZZ} this runs the committed inputs as a regression test: valid files of
 * each kind (see {@link VhdxFuzzSeeds}) and every input that ever found a bug. See docs/fuzzing.md.
 */
class VhdxFuzzTest {
    private static final byte PATTERN = (byte) 0xc5;
    private static Path scratch;

    @DictionaryFile(resourcePath = "vhdx.dict")
    @FuzzTest(maxDuration = "45s")
    void anyBytesGetATypedAnswerAndOnlyValidFilesAreWritten(byte[] input) throws IOException {
        Path file = scratchFile();
        VhdxFuzzImage.decode(input, file);

        String content = null;
        Throwable refused = null;
        try {
            // A read-only open has a read-only channel: a write would throw, and be a finding.
            content = readWhole(file, Access.READ);
        } catch (CorruptDiskException | UnsupportedDiskException e) {
            refused = e;
        }

        if (refused != null) {
            long pristine = digest(file);
            Throwable write = catchThrowable(() -> writeFirstSector(file));
            assertThat(write)
                    .as("a write to a file refused for reading (%s)", refused.getMessage())
                    .isInstanceOfAny(CorruptDiskException.class, UnsupportedDiskException.class);
            assertThat(digest(file)).as("the file after a refused write").isEqualTo(pristine);
            return;
        }

        try {
            assertThat(readWhole(file, Access.WRITE))
                    .as("what the file reads with its log replayed into it, and in memory")
                    .isEqualTo(content);
            changeAsAMergeWould(file, UUID.nameUUIDFromBytes(input));
        } catch (UnsupportedDiskException e) {
            return; // readable, not changeable (a header sequence number at its end)
        }
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
            int sector = disk.logicalSectorSize();
            ChainReader reader = new ChainReader(List.of(disk), disk.virtualSize());
            ByteBuffer first = ByteBuffer.allocate(sector);
            reader.read(0, first);
            byte[] expected = new byte[sector];
            Arrays.fill(expected, PATTERN);
            assertThat(first.array()).as("the sector written").isEqualTo(expected);
            if (disk.virtualSize() >= 2L * sector) {
                ByteBuffer last = ByteBuffer.allocate(sector);
                reader.read(disk.virtualSize() - sector, last);
                assertThat(last.array()).as("the sector zeroed").isEqualTo(new byte[sector]);
            }
            UUID id = UUID.nameUUIDFromBytes(input);
            assertThat(disk.virtualDiskId()).isEqualTo(id);
            disk.parentLink().ifPresent(link -> assertThat(link.accepts(id)).isTrue());
        }
    }

    /**
     * The changes a merge makes to the files of a chain: data in, a range zeroed, the merged child's
     * virtual disk id taken on, and for a child, its parent's next identity accepted (which rewrites
     * its metadata region through the log).
     */
    private static void changeAsAMergeWould(Path file, UUID id) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            int sector = disk.logicalSectorSize();
            byte[] data = new byte[sector];
            Arrays.fill(data, PATTERN);
            disk.write(0, ByteBuffer.wrap(data));
            if (disk.virtualSize() >= 2L * sector) {
                disk.writeZeros(disk.virtualSize() - sector, sector);
            }
            disk.adoptVirtualDiskId(id);
            if (disk.parentLink().isPresent()) {
                disk.acceptParentIdentity(id);
            }
            disk.commit();
        }
    }

    /**
     * Opens the file, verifies it and reads what it defines; returns a digest of that. Verifying
     * comes first: extents of a file whose blocks overlap could be unbounded.
     */
    private static String readWhole(Path file, Access access) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, access)) {
            disk.verify();
            StringBuilder seen = new StringBuilder();
            seen.append(disk.type())
                    .append(' ')
                    .append(disk.virtualSize())
                    .append(' ')
                    .append(disk.identity());
            if (disk.parentLink().isPresent()) {
                seen.append(' ').append(disk.parentLink().get());
                ParentPaths.candidates(disk.path(), disk.parentLink().get());
            }
            long window = 1L << 32;
            for (long at = 0; at < disk.virtualSize(); at += window) {
                List<Extent> extents = new ArrayList<>();
                disk.extents(at, Math.min(window, disk.virtualSize() - at), extents);
                for (Extent extent : extents) {
                    seen.append('\n').append(extent);
                    if (!extent.isZero()) {
                        seen.append(' ').append(sample(disk, extent.fileOffset()));
                        seen.append(' ').append(sample(disk, extent.fileOffset() + extent.length() - 512));
                    }
                }
            }
            return seen.toString();
        }
    }

    private static long sample(VirtualDisk disk, long fileOffset) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(512);
        disk.readStored(fileOffset, bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes.flip());
        return crc.getValue();
    }

    private static void writeFirstSector(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            byte[] sector = new byte[disk.logicalSectorSize()];
            Arrays.fill(sector, PATTERN);
            disk.write(0, ByteBuffer.wrap(sector));
            disk.commit();
        }
    }

    private static final ByteBuffer DIGEST_BUFFER = ByteBuffer.allocateDirect(1 << 20);

    /** A checksum of the whole file, holes included. */
    private static long digest(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            CRC32C crc = new CRC32C();
            long at = 0;
            for (int n; (n = channel.read(DIGEST_BUFFER.clear(), at)) > 0; at += n) {
                crc.update(DIGEST_BUFFER.flip());
            }
            return crc.getValue() ^ at * 31;
        }
    }

    /** One file per JVM, in memory where the machine has /dev/shm. */
    private static synchronized Path scratchFile() throws IOException {
        if (scratch == null) {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "chainmerge-fuzz")
                    : Files.createTempDirectory("chainmerge-fuzz");
            dir.toFile().deleteOnExit();
            scratch = dir.resolve("input.vhdx");
            scratch.toFile().deleteOnExit();
        }
        return scratch;
    }
}
