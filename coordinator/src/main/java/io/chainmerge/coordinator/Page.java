package io.chainmerge.coordinator;

import java.util.List;

/**
 * One page of a list the API answers ({@code GET /v1/campaigns}, {@code GET /v1/inventory}): items in a stable
 * order (by id), and the cursor of the next page, to send as {@code after}; null on the last page.
 */
public record Page<T>(List<T> items, String next) {
    public Page {
        items = List.copyOf(items);
    }

    /**
     * What a caller asks of a list: at most {@code limit} items, those after the cursor {@code after} (null for
     * the first page).
     */
    record Request(int limit, String after) {
        static final int DEFAULT_LIMIT = 100;
        static final int MAX_LIMIT = 1000;

        /** Reads {@code ?limit=&after=}; refuses a limit that is not a number from 1 to {@link #MAX_LIMIT}. */
        static Request of(String limit, String after) {
            int n = DEFAULT_LIMIT;
            if (limit != null) {
                try {
                    n = Integer.parseInt(limit.strip());
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n < 1 || n > MAX_LIMIT) {
                    throw new IllegalArgumentException(
                            "limit must be a number from 1 to " + MAX_LIMIT + ", not '" + limit + "'");
                }
            }
            return new Request(n, after == null || after.isBlank() ? null : after);
        }

        /**
         * The page of {@code sorted} (ascending by {@code id}) after the cursor: the items, and the last one's id
         * when more follow.
         */
        <T> Page<T> page(List<T> sorted, java.util.function.Function<T, String> id) {
            int from = 0;
            if (after != null) {
                // The first item past the cursor, whether or not the cursor's own item still exists.
                int lo = 0;
                int hi = sorted.size();
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (id.apply(sorted.get(mid)).compareTo(after) <= 0) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                from = lo;
            }
            int to = Math.min(sorted.size(), from + limit);
            List<T> items = sorted.subList(from, to);
            String next = to < sorted.size() ? id.apply(sorted.get(to - 1)) : null;
            return new Page<>(items, next);
        }
    }
}
