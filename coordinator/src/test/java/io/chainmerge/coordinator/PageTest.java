package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Cursor paging: pages of a sorted list, and the cursor still good when its own item is gone. */
class PageTest {
    private static final List<String> IDS = List.of("c-1", "c-2", "c-3", "c-4", "c-5");

    @Test
    void pagesFollowEachOtherWithoutGapOrRepeatAndTheLastHasNoNext() {
        Page<String> first = Page.Request.of("2", null).page(IDS, Function.identity());
        assertThat(first).isEqualTo(new Page<>(List.of("c-1", "c-2"), "c-2"));
        Page<String> second = Page.Request.of("2", first.next()).page(IDS, Function.identity());
        assertThat(second).isEqualTo(new Page<>(List.of("c-3", "c-4"), "c-4"));
        Page<String> last = Page.Request.of("2", second.next()).page(IDS, Function.identity());
        assertThat(last).isEqualTo(new Page<>(List.of("c-5"), null));
        assertThat(Page.Request.of(null, null).page(IDS, Function.identity()).items())
                .hasSize(5);
    }

    @Test
    void aCursorWhoseItemWasRemovedStillStartsAfterIt() {
        List<String> withoutC2 = List.of("c-1", "c-3", "c-4");
        assertThat(Page.Request.of("1", "c-2").page(withoutC2, Function.identity()))
                .isEqualTo(new Page<>(List.of("c-3"), "c-3"));
        assertThat(Page.Request.of("10", "c-9").page(withoutC2, Function.identity()))
                .isEqualTo(new Page<>(List.of(), null));
    }

    @Test
    void aLimitOutsideOneToAThousandIsRefusedSayingWhy() {
        for (String bad : List.of("0", "-1", "1001", "ten", "")) {
            assertThatThrownBy(() -> Page.Request.of(bad, null))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("limit must be a number from 1 to 1000");
        }
        assertThat(Page.Request.of(" 1000 ", "").after()).isNull();
    }
}
