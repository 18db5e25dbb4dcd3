package io.chainmerge.disk.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads a range of the file as the current state of the file has it (log replay included). */
@FunctionalInterface
interface RangeReader {
    ByteBuffer read(long fileOffset, int length) throws IOException;
}
