package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, as transplants check what they copied: lower-case hex of a file's bytes. */
public final class Sha256 {
    private static final int BUFFER = 1 << 20;

    private Sha256() {}

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }

    /** The digest of every byte {@code channel} reads from its start, as lower-case hex. */
    public static String of(FileChannel channel) throws IOException {
        MessageDigest digest = newDigest();
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        long position = 0;
        while (true) {
            buffer.clear();
            int read = channel.read(buffer, position);
            if (read < 0) {
                break;
            }
            position += read;
            buffer.flip();
            digest.update(buffer);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
