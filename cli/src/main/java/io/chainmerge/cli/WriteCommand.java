package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.scan.ScannedDisk;
import io.chainmerge.disk.scan.VolumeScan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
        name = "write",
        header = "Writes data into a virtual disk, as a virtual machine would.",
        mixinStandardHelpOptions = true,
        description = "Writes into the virtual disk, as a virtual machine would: to FILE, the top of its chain. "
                + "Partial sectors are completed from what the chain reads there. Refused when FILE has "
                + "children in its folder tree, whose data the write would orphan, unless --force.")
final class WriteCommand implements Callable<Integer> {
    private static final int CHUNK = 8 << 20;

    @Parameters(paramLabel = "FILE", description = "the disk to write into")
    Path file;

    @Option(
            names = "--offset",
            required = true,
            paramLabel = "BYTES",
            description = "where in the virtual disk to write")
    String offset;

    @ArgGroup(multiplicity = "1")
    Data data;

    static final class Data {
        @Option(names = "--input", paramLabel = "DATAFILE", description = "the bytes to write")
        Path input;

        @Option(
                names = "--zero",
                paramLabel = "LENGTH",
                description = "make LENGTH bytes read as zeros instead (like UNMAP)")
        String zero;
    }

    @Option(names = "--force", description = "write even though it orphans FILE's children")
    boolean force;

    @Mixin
    Output output;

    /** What {@code --json} prints. */
    record Written(Path file, long offset, long bytes) {}

    @Override
    public Integer call() throws Exception {
        long at = ByteSize.parse(offset);
        // Held before the children check, so none can appear between the check and the write.
        try (LockScope scope = LockScope.begin("write to " + file);
                Chain chain = holdAndOpen(scope)) {
            VirtualDisk disk = chain.top();
            ChainReader reader = new ChainReader(chain);
            long written;
            if (data.input != null) {
                written = writeFile(disk, reader, at);
            } else {
                written = ByteSize.parse(data.zero);
                writeZeros(disk, reader, at, written);
            }
            disk.commit();
            if (output.json()) {
                output.printJson(new Written(disk.path(), at, written));
            } else {
                output.out().printf("wrote %s at offset %d of %s%n", ByteSize.format(written), at, disk.path());
            }
        }
        return ExitCodes.OK;
    }

    private Chain holdAndOpen(LockScope scope) throws IOException {
        scope.hold(file, Access.WRITE);
        refuseIfItHasChildren();
        return Chain.open(file, Access.WRITE, Access.READ);
    }

    private void refuseIfItHasChildren() throws IOException {
        if (force) {
            return;
        }
        Path real = file.toRealPath();
        ScannedDisk scanned = VolumeScan.scan(List.of(real.getParent())).find(real);
        if (scanned != null && !scanned.children().isEmpty()) {
            throw new GuardRefusal(
                    GuardRefusal.Guard.SIBLINGS,
                    real,
                    "%s has children %s; writing into it would orphan them (use --force to write anyway)"
                            .formatted(real, scanned.children()),
                    Map.of(
                            "children",
                            scanned.children().stream().map(Path::toString).toList()));
        }
    }

    private long writeFile(VirtualDisk disk, ChainReader reader, long at) throws IOException {
        long size = Files.size(data.input);
        if (at < 0 || at + size > disk.virtualSize()) {
            throw new IllegalArgumentException("%s bytes at offset %d do not fit the %d-byte virtual disk"
                    .formatted(size, at, disk.virtualSize()));
        }
        int sector = disk.logicalSectorSize();
        try (InputStream in = Files.newInputStream(data.input)) {
            long done = 0;
            while (done < size) {
                long start = at + done;
                int n = (int) Math.min(CHUNK, size - done);
                long alignedStart = start - start % sector;
                long alignedEnd = Math.min(disk.virtualSize(), (start + n + sector - 1) / sector * sector);
                ByteBuffer buffer = ByteBuffer.allocate((int) (alignedEnd - alignedStart));
                if (alignedStart != start || alignedEnd != start + n) {
                    reader.read(alignedStart, buffer.duplicate()); // complete the partial sectors
                }
                byte[] bytes = in.readNBytes(n);
                if (bytes.length != n) {
                    throw new IOException(data.input + " changed while it was being read");
                }
                buffer.put((int) (start - alignedStart), bytes);
                disk.write(alignedStart, buffer);
                done += n;
            }
        }
        return size;
    }

    private void writeZeros(VirtualDisk disk, ChainReader reader, long at, long length) throws IOException {
        int sector = disk.logicalSectorSize();
        if (at < 0 || at + length > disk.virtualSize()) {
            throw new IllegalArgumentException("%d bytes at offset %d do not fit the %d-byte virtual disk"
                    .formatted(length, at, disk.virtualSize()));
        }
        long alignedStart = (at + sector - 1) / sector * sector;
        long alignedEnd = Math.max(alignedStart, (at + length) / sector * sector);
        // Partial sectors at either end are written as data: zeros in their part of the sector.
        zeroPartial(disk, reader, at, Math.min(alignedStart, at + length));
        if (alignedEnd > alignedStart) {
            disk.writeZeros(alignedStart, alignedEnd - alignedStart);
        }
        zeroPartial(disk, reader, Math.max(alignedEnd, at), at + length);
    }

    private static void zeroPartial(VirtualDisk disk, ChainReader reader, long from, long to) throws IOException {
        if (from >= to) {
            return;
        }
        int sector = disk.logicalSectorSize();
        long sectorStart = from - from % sector;
        ByteBuffer buffer = ByteBuffer.allocate(sector);
        reader.read(sectorStart, buffer.duplicate());
        for (long i = from; i < to; i++) {
            buffer.put((int) (i - sectorStart), (byte) 0);
        }
        disk.write(sectorStart, buffer);
    }
}
