package io.chainmerge.disk.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/** Raw edits of VHD files for tests: damage a byte, or change a field and keep the checksum right. */
final class VhdEdits {
    private VhdEdits() {}

    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).clear();
            channel.write(one, offset);
        }
    }

    /** Edits the 512-byte footer at {@code footerAt} and stores its checksum again. */
    static void editFooter(Path file, long footerAt, Consumer<ByteBuffer> edit) throws IOException {
        editStructure(file, footerAt, VhdFooter.SIZE, VhdFooter.CHECKSUM_AT, edit);
    }

    /** Edits both footers of a dynamic or differencing disk alike. */
    static void editBothFooters(Path file, Consumer<ByteBuffer> edit) throws IOException {
        editFooter(file, 0, edit);
        editFooter(file, Files.size(file) - VhdFooter.SIZE, edit);
    }

    /** Edits the dynamic disk header at {@code headerAt} and stores its checksum again. */
    static void editHeader(Path file, long headerAt, Consumer<ByteBuffer> edit) throws IOException {
        editStructure(file, headerAt, DynamicDiskHeader.SIZE, DynamicDiskHeader.CHECKSUM_AT, edit);
    }

    private static void editStructure(Path file, long at, int size, int checksumAt, Consumer<ByteBuffer> edit)
            throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer raw = ByteBuffer.allocate(size);
            channel.read(raw, at);
            edit.accept(raw.clear());
            raw.putInt(checksumAt, (int) Checksum.of(raw, checksumAt));
            channel.write(raw.clear(), at);
        }
    }

    static void writeBytes(Path file, long offset, ByteBuffer bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(bytes, offset);
        }
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
                while (channel.read(buffer) > 0) {
                    digest.update(buffer.flip());
                    buffer.clear();
                }
            }
            return HexFormat.of().formatHex(digest.digest()) + "/" + Files.size(file);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
