package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.StructReader;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C (Castagnoli) as VHDX uses it: over a whole structure with its checksum field taken as zero. */
final class Checksums {
    private Checksums() {}

    /** Fails unless the structure's stored checksum is the CRC-32C of its bytes. */
    static void requireValid(StructReader reader, ByteBuffer structure, int checksumAt, String structureName)
            throws CorruptDiskException {
        long stored = reader.u32(checksumAt, "Checksum");
        long computed = crc32c(structure, checksumAt);
        reader.require(
                stored == computed,
                checksumAt,
                "Checksum",
                "CRC-32C is 0x%08x, the %s holds 0x%08x".formatted(computed, structureName, stored));
    }

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
