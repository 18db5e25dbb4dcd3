package io.chainmerge.disk.vhd;

import java.nio.ByteBuffer;

/**
 * The checksum of the footer and of the dynamic disk header (VHD spec, appendix "Checksum
 * Calculation"): the one's complement of the sum of every byte of the structure but the four of the
 * checksum field.
 */
final class Checksum {
    private Checksum() {}

    static long of(ByteBuffer structure, int checksumAt) {
        long sum = 0;
        for (int i = 0; i < structure.limit(); i++) {
            if (i < checksumAt || i >= checksumAt + 4) {
                sum += structure.get(i) & 0xff;
            }
        }
        return ~sum & 0xFFFF_FFFFL;
    }
}
