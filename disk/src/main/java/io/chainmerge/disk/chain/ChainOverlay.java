package io.chainmerge.disk.chain;

import io.chainmerge.disk.Extent;
import io.chainmerge.disk.VirtualDisk;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which level of a chain defines each part of a range: the newest level that holds data or zeros there
 * wins. Reading through a chain and merging several levels into one are both this one question.
 */
public final class ChainOverlay {

    /** A part of the range, defined by the level at index {@code level}. */
    public record Piece(Extent extent, int level) {}

    private ChainOverlay() {}

    /**
     * The pieces of {@code [offset, offset + length)} that {@code levels} (newest first) define, in
     * ascending order. What no level defines is absent: zeros when the last level is a root, the
     * parent's content when it is not. Levels smaller than the range define nothing past their end.
     */
    public static List<Piece> resolve(List<? extends VirtualDisk> levels, long offset, long length) throws IOException {
        List<Piece> pieces = new ArrayList<>();
        List<long[]> gaps = new ArrayList<>();
        gaps.add(new long[] {offset, offset + length});
        List<Extent> extents = new ArrayList<>();
        for (int level = 0; level < levels.size() && !gaps.isEmpty(); level++) {
            VirtualDisk disk = levels.get(level);
            List<long[]> remaining = new ArrayList<>();
            for (long[] gap : gaps) {
                long cursor = gap[0];
                long end = Math.min(gap[1], disk.virtualSize());
                if (cursor < end) {
                    extents.clear();
                    disk.extents(cursor, end - cursor, extents);
                    for (Extent extent : extents) {
                        if (extent.offset() > cursor) {
                            remaining.add(new long[] {cursor, extent.offset()});
                        }
                        pieces.add(new Piece(extent, level));
                        cursor = extent.end();
                    }
                }
                if (cursor < gap[1]) {
                    remaining.add(new long[] {cursor, gap[1]});
                }
            }
            gaps = remaining;
        }
        pieces.sort(Comparator.comparingLong(piece -> piece.extent().offset()));
        return pieces;
    }
}
