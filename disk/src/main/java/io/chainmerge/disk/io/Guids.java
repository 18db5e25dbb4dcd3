package io.chainmerge.disk.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * GUIDs in the Windows binary layout used by VHDX: Data1 (u32), Data2 (u16) and Data3 (u16)
 * little-endian, then Data4's eight bytes as they are.
 */
public final class Guids {
    public static final UUID ZERO = new UUID(0, 0);

    private Guids() {}

    public static UUID readWindows(ByteBuffer buffer, int at) {
        ByteBuffer le = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long data1 = le.getInt(at) & 0xffffffffL;
        long data2 = le.getShort(at + 4) & 0xffffL;
        long data3 = le.getShort(at + 6) & 0xffffL;
        long data4 = buffer.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        return new UUID((data1 << 32) | (data2 << 16) | data3, data4);
    }

    public static void writeWindows(ByteBuffer buffer, int at, UUID guid) {
        ByteBuffer le = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long msb = guid.getMostSignificantBits();
        le.putInt(at, (int) (msb >>> 32));
        le.putShort(at + 4, (short) (msb >>> 16));
        le.putShort(at + 6, (short) msb);
        buffer.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(at + 8, guid.getLeastSignificantBits());
    }

    /** The brace-enclosed lowercase text form VHDX parent locators use. */
    public static String braced(UUID guid) {
        return "{" + guid + "}";
    }

    /** Parses {@code {xxxxxxxx-...}} or the bare form, in either case; null when it is not a GUID. */
    public static UUID parseBraced(String text) {
        String bare = text.strip();
        if (bare.startsWith("{") && bare.endsWith("}")) {
            bare = bare.substring(1, bare.length() - 1);
        }
        if (bare.length() != 36) {
            return null;
        }
        try {
            return UUID.fromString(bare);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public static UUID random() {
        return UUID.randomUUID();
    }
}
