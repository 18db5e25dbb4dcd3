package io.chainmerge.cli;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
        name = "export",
        header = "Writes a disk's content, read through its chain, as a raw image.",
        mixinStandardHelpOptions = true,
        description = "Writes the logical content of FILE, read through its chain, as a raw image (sparse where zero).")
final class ExportCommand implements Callable<Integer> {
    private static final int CHUNK = 4 << 20;

    @Parameters(index = "0", paramLabel = "FILE", description = "the disk to read (the top of its chain)")
    Path file;

    @Parameters(index = "1", paramLabel = "OUT", description = "the raw image to write; it must not exist")
    Path out;

    @Mixin
    Output output;

    /** What {@code --json} prints. */
    record Exported(Path file, int levels, long virtualSize, Path output) {}

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out)) {
            throw new java.nio.file.FileAlreadyExistsException(out.toString());
        }
        try (Chain chain = Chain.open(file, Access.READ)) {
            chain.verify(); // what a merge refuses as corrupt, export refuses too, before it writes a byte
            try {
                export(chain);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw e; // someone else's file, created since the check above
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(out); // a failed export leaves nothing behind
                throw e;
            }
        }
        return ExitCodes.OK;
    }

    private void export(Chain chain) throws IOException {
        try (FileChannel target = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ChainReader reader = new ChainReader(chain);
            long size = reader.virtualSize();
            ProgressDisplay progress = new ProgressDisplay("export");
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
            for (long at = 0; at < size; at += CHUNK) {
                buffer.clear().limit((int) Math.min(CHUNK, size - at));
                reader.read(at, buffer);
                buffer.flip();
                if (!Zeros.isAllZero(buffer)) {
                    while (buffer.hasRemaining()) {
                        target.write(buffer, at + buffer.position());
                    }
                }
                progress.update(at + buffer.limit(), size);
            }
            target.truncate(size);
            if (target.size() < size) {
                target.write(ByteBuffer.allocate(1), size - 1);
            }
            target.force(true);
            progress.finish();
            if (output.json()) {
                output.printJson(new Exported(chain.top().path(), chain.depth(), size, out.toAbsolutePath()));
            } else {
                output.out()
                        .printf(
                                "exported %s (%s, %d levels) to %s%n",
                                chain.top().path(), ByteSize.format(size), chain.depth(), out);
            }
        }
    }
}
