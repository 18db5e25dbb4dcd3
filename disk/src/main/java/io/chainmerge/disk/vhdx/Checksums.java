package io.chainmerge.disk.vhdx;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C (Castagnoli) as VHDX uses it: over a whole structure with its checksum field taken as zero. */
final class Checksums {
    private Checksums() {}

    static long crc32c(ByteBuffer structure, int checksumAt) {
        CRC32C crc = new CRC32C();
        ByteBuffer whole = structure.duplicate().clear();
        whole.limit(checksumAt);
        crc.update(whole);
        crc.update(new byte[4]);
        whole.limit(structure.capacity()).position(checksumAt + 4);
        crc.update(whole);
        return crc.getValue();
    }
}
