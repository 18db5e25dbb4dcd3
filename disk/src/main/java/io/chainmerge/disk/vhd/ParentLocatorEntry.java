package io.chainmerge.disk.vhd;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.io.StructReader;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * One of the eight parent locator entries of the dynamic disk header (VHD spec, "Parent Locator
 * Entries"): where a differencing disk keeps one form of its parent's location, and in which form.
 *
 * @param platformCode the form, e.g. {@link #W2RU}; 0 for an unused entry
 * @param platformDataSpace the space kept for the data: 512-byte sectors in the specification, bytes in
 *     the files Windows writes (see {@link #reservedBytes()})
 * @param platformDataLength the data's length in bytes
 * @param platformDataOffset the data's offset in the file
 */
record ParentLocatorEntry(int platformCode, long platformDataSpace, long platformDataLength, long platformDataOffset) {

    static final int SIZE = 24;
    /** A path relative to the differencing disk's folder, UTF-16 (little-endian, as Windows writes it). */
    static final int W2RU = code("W2ru");
    /** An absolute Windows path, UTF-16 (little-endian, as Windows writes it). */
    static final int W2KU = code("W2ku");
    /** Deprecated relative path, in the ANSI code page. */
    static final int WI2R = code("Wi2r");
    /** Deprecated absolute path, in the ANSI code page. */
    static final int WI2K = code("Wi2k");
    /** A Mac OS alias, an opaque blob. */
    static final int MAC = code("Mac ");
    /** A {@code file://} URL in UTF-8 (RFC 2396; blktap writes {@code file://./base.vhd}). */
    static final int MACX = code("MacX");

    static final ParentLocatorEntry UNUSED = new ParentLocatorEntry(0, 0, 0, 0);

    private static final int PLATFORM_CODE_AT = 0;
    private static final int PLATFORM_DATA_SPACE_AT = 4;
    private static final int PLATFORM_DATA_LENGTH_AT = 8;
    private static final int PLATFORM_DATA_OFFSET_AT = 16;
    private static final Charset ANSI = Charset.forName("windows-1252");

    static ParentLocatorEntry parse(StructReader header, int at) throws CorruptDiskException {
        return new ParentLocatorEntry(
                (int) header.u32(at + PLATFORM_CODE_AT, "Platform Code"),
                header.u32(at + PLATFORM_DATA_SPACE_AT, "Platform Data Space"),
                header.u32(at + PLATFORM_DATA_LENGTH_AT, "Platform Data Length"),
                header.bits64(at + PLATFORM_DATA_OFFSET_AT, "Platform Data Offset"));
    }

    void encode(ByteBuffer header, int at) {
        header.putInt(at + PLATFORM_CODE_AT, platformCode);
        header.putInt(at + PLATFORM_DATA_SPACE_AT, (int) platformDataSpace);
        header.putInt(at + PLATFORM_DATA_LENGTH_AT, (int) platformDataLength);
        header.putLong(at + PLATFORM_DATA_OFFSET_AT, platformDataOffset);
    }

    boolean isUsed() {
        return platformCode != 0;
    }

    /**
     * The bytes kept for the data. The specification counts Platform Data Space in sectors, Windows
     * writes bytes (4096, 65536); as blktap does, a value under 512 counts sectors, a larger multiple of
     * 512 bytes. Never less than the data itself.
     */
    long reservedBytes() {
        long space;
        if (platformDataSpace < VhdFile.SECTOR_SIZE) {
            space = platformDataSpace * VhdFile.SECTOR_SIZE;
        } else if (platformDataSpace % VhdFile.SECTOR_SIZE == 0) {
            space = platformDataSpace;
        } else {
            space = 0;
        }
        return Math.max(space, platformDataLength);
    }

    /** The platform code as its four characters, e.g. {@code W2ru}. */
    String platformName() {
        byte[] raw = ByteBuffer.allocate(4).putInt(platformCode).array();
        for (byte b : raw) {
            if (b < 0x20 || b > 0x7e) {
                return "0x%08x".formatted(platformCode);
            }
        }
        return new String(raw, StandardCharsets.US_ASCII);
    }

    /**
     * The location this entry's data names, as chainmerge resolves it; empty for a Mac OS alias, an
     * unknown platform, or data that is not a usable path.
     */
    Optional<ParentPath> path(byte[] data) {
        String value;
        ParentPath.Kind kind;
        if (platformCode == W2RU || platformCode == W2KU) {
            value = new String(data, StandardCharsets.UTF_16LE);
            kind = platformCode == W2RU ? ParentPath.Kind.RELATIVE : ParentPath.Kind.ABSOLUTE;
        } else if (platformCode == WI2R || platformCode == WI2K) {
            // Deprecated forms with no documented encoding: ANSI, unless the bytes look like UTF-16LE text.
            value = new String(data, looksLikeUtf16Le(data) ? StandardCharsets.UTF_16LE : ANSI);
            kind = platformCode == WI2R ? ParentPath.Kind.RELATIVE : ParentPath.Kind.ABSOLUTE;
        } else if (platformCode == MACX) {
            return fileUrl(
                    stripTrailingNuls(new String(data, StandardCharsets.UTF_8)).strip());
        } else {
            return Optional.empty();
        }
        value = stripTrailingNuls(value);
        if (value.isEmpty() || value.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        return Optional.of(new ParentPath(kind, value));
    }

    private static boolean looksLikeUtf16Le(byte[] data) {
        if (data.length < 2 || data.length % 2 != 0) {
            return false;
        }
        for (int i = 1; i < data.length; i += 2) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A MacX locator's {@code file://} URL (RFC 8089) as a path: {@code file:///srv/base.vhd} and {@code
     * file://localhost/srv/base.vhd} name an absolute path on this host; {@code file://./base.vhd} and
     * {@code file://../vm/base.vhd}, as blktap writes them ("file://" and the path it was given), a path
     * relative to the child's folder; a URL naming another host, a path chainmerge shows but does not
     * resolve. Percent escapes are decoded; a malformed one is kept as written.
     */
    static Optional<ParentPath> fileUrl(String url) {
        if (url.isEmpty() || url.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        String scheme = "file://";
        if (!url.regionMatches(true, 0, scheme, 0, scheme.length())) {
            return Optional.of(new ParentPath(ParentPath.Kind.OTHER, url));
        }
        String rest = url.substring(scheme.length());
        if (rest.startsWith("./") || rest.startsWith("../")) {
            return Optional.of(new ParentPath(ParentPath.Kind.RELATIVE, percentDecoded(rest)));
        }
        String local = "localhost/";
        if (rest.regionMatches(true, 0, local, 0, local.length())) {
            rest = rest.substring(local.length() - 1);
        }
        if (rest.startsWith("/")) {
            return Optional.of(new ParentPath(ParentPath.Kind.ABSOLUTE, percentDecoded(rest)));
        }
        int slash = rest.indexOf('/');
        return Optional.of(
                new ParentPath(ParentPath.Kind.OTHER, percentDecoded(slash < 0 ? rest : rest.substring(slash))));
    }

    private static String percentDecoded(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                if (i + 2 >= text.length()
                        || Character.digit(text.charAt(i + 1), 16) < 0
                        || Character.digit(text.charAt(i + 2), 16) < 0) {
                    return text;
                }
                bytes.write(Character.digit(text.charAt(i + 1), 16) * 16 + Character.digit(text.charAt(i + 2), 16));
                i += 2;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String stripTrailingNuls(String value) {
        int end = value.length();
        while (end > 0 && value.charAt(end - 1) == '\0') {
            end--;
        }
        return value.substring(0, end);
    }

    private static int code(String name) {
        return ByteBuffer.wrap(name.getBytes(StandardCharsets.US_ASCII)).getInt();
    }
}
