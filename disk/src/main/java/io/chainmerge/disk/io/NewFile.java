package io.chainmerge.disk.io;

import io.chainmerge.disk.Access;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * How both format engines make a new disk file: written in full under a temporary name beside it,
 * flushed, then renamed into place and the folder flushed, so no reader ever sees half a file under the
 * disk's name. An existing file is never replaced.
 */
public final class NewFile {

    /** What goes into the new file, written through its channel. */
    @FunctionalInterface
    public interface Content {
        void write(DiskChannel channel) throws IOException;
    }

    private NewFile() {}

    public static void create(Path file, Content content) throws IOException {
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file.toString());
        }
        Path temporary = file.resolveSibling("." + file.getFileName() + ".creating");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary);
        try (DiskChannel channel = DiskChannel.open(temporary, Access.WRITE)) {
            content.write(channel);
            channel.force();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        Directories.force(file.toAbsolutePath().getParent());
    }
}
