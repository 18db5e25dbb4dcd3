package io.chainmerge.disk.vhd;

import java.time.Instant;

/** VHD time stamps: seconds since 2000-01-01 00:00:00 UTC in a u32 (VHD spec, footer Time Stamp). */
final class VhdTime {
    static final Instant EPOCH = Instant.parse("2000-01-01T00:00:00Z");
    private static final long MAX = 0xFFFF_FFFFL;

    private VhdTime() {}

    static Instant toInstant(long timeStamp) {
        return EPOCH.plusSeconds(timeStamp);
    }

    /** The time stamp of {@code instant}, or 0 (which records nothing) where a u32 cannot hold it. */
    static long of(Instant instant) {
        long seconds = instant.getEpochSecond() - EPOCH.getEpochSecond();
        return seconds < 0 || seconds > MAX ? 0 : seconds;
    }
}
