package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.Extent;
import java.util.List;

/** Appends extents, joining one to the last when they continue each other, so copies stay large. */
final class Extents {
    private Extents() {}

    static void addData(List<Extent> out, long offset, long length, long fileOffset) {
        if (!out.isEmpty()) {
            Extent last = out.get(out.size() - 1);
            if (!last.isZero() && last.end() == offset && last.fileOffset() + last.length() == fileOffset) {
                out.set(out.size() - 1, Extent.data(last.offset(), last.length() + length, last.fileOffset()));
                return;
            }
        }
        out.add(Extent.data(offset, length, fileOffset));
    }

    static void addZero(List<Extent> out, long offset, long length) {
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
