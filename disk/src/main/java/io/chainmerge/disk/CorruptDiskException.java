package io.chainmerge.disk;

import java.nio.file.Path;

/** A structure in a disk file is invalid: a bad signature or checksum, a field out of range, a truncated file. */
public class CorruptDiskException extends DiskException {
    private final long offset;
    private final String field;

    public CorruptDiskException(Path file, long offset, String field, String problem) {
        super(file, describe(file, offset, field, problem));
        this.offset = offset;
        this.field = field;
    }

    /** The file offset of the structure or field at fault. */
    public long offset() {
        return offset;
    }

    /** The name of the field or structure at fault, as the format specification names it. */
    public String field() {
        return field;
    }

    private static String describe(Path file, long offset, String field, String problem) {
        return "%s: corrupt %s at offset %d (0x%x): %s".formatted(file, field, offset, offset, problem);
    }
}
