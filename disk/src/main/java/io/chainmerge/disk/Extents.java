package io.chainmerge.disk;

import java.util.List;

/**
 * Appends extents, joining one to the last when they continue each other, so copies stay large. Every
 * format builds its {@link VirtualDisk#extents} answer through it.
 */
public final class Extents {
    private Extents() {}

    public static void addData(List<Extent> out, long offset, long length, long fileOffset) {
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (!last.isZero() && last.end() == offset && last.fileOffset() + last.length() == fileOffset) {
                out.set(out.size() - 1, Extent.data(last.offset(), last.length() + length, last.fileOffset()));
                return;
            }
        }
        out.add(Extent.data(offset, length, fileOffset));
    }

    public static void addZero(List<Extent> out, long offset, long length) {
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (last.isZero() && last.end() == offset) {
                out.set(out.size() - 1, Extent.zero(last.offset(), last.length() + length));
                return;
            }
        }
        out.add(Extent.zero(offset, length));
    }
}
