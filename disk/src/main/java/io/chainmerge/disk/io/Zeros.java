package io.chainmerge.disk.io;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Writes runs of zero bytes in large pieces. */
public final class Zeros {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Zeros() {}

    public static void write(DiskChannel channel, long offset, long length) throws IOException {
        for (long done = 0; done < length; ) {
            ByteBuffer piece = ZEROS.duplicate();
            piece.limit((int) Math.min(piece.capacity(), length - done));
            int n = piece.remaining();
            channel.writeFully(piece, offset + done);
            done += n;
        }
    }

    public static boolean isAllZero(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        while (view.remaining() >= 8) {
            if (view.getLong() != 0) {
                return false;
            }
        }
        while (view.hasRemaining()) {
            if (view.get() != 0) {
                return false;
            }
        }
        return true;
    }
}
