package io.chainmerge.disk;

/**
 * A range of the virtual disk that one file defines by itself: either stored data at a file offset,
 * or zeros that hide whatever the parent holds there.
 */
public record Extent(long offset, long length, Kind kind, long fileOffset) {

    public enum Kind {
        DATA,
        ZERO
    }

    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("extent [" + offset + ", +" + length + ")");
        }
    }

    public static Extent data(long offset, long length, long fileOffset) {
        return new Extent(offset, length, Kind.DATA, fileOffset);
    }

    public static Extent zero(long offset, long length) {
        return new Extent(offset, length, Kind.ZERO, -1);
    }

    public long end() {
        return offset + length;
    }

    public boolean isZero() {
        return kind == Kind.ZERO;
    }

    /** The part of this extent from {@code from} (inclusive) to {@code to} (exclusive). */
    public Extent slice(long from, long to) {
        long start = Math.max(from, offset);
        long stop = Math.min(to, end());
        if (start == offset && stop == end()) {
            return this;
        }
        return new Extent(start, stop - start, kind, kind == Kind.DATA ? fileOffset + (start - offset) : -1);
    }
}
