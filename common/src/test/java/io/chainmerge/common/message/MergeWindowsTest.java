package io.chainmerge.common.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chainmerge.common.json.JsonCodec;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Windows in time as operators write them, in their zone (2026-12-07 is a Monday). */
class MergeWindowsTest {
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    private final MergeWindows nightsAndWeekends =
            new MergeWindows(List.of("Mon-Fri 22:00-06:00", "Sat-Sun"), "Europe/Paris");

    private static Instant paris(String localDateTime) {
        return ZonedDateTime.of(java.time.LocalDateTime.parse(localDateTime), PARIS)
                .toInstant();
    }

    @Test
    void aNightWindowRunsPastMidnightAndItsDaysAreTheDaysItStartsOn() {
        assertThat(nightsAndWeekends.contains(paris("2026-12-07T21:59:59"))).isFalse(); // Monday evening
        assertThat(nightsAndWeekends.contains(paris("2026-12-07T22:00:00"))).isTrue();
        assertThat(nightsAndWeekends.contains(paris("2026-12-08T05:59:59"))).isTrue(); // Tuesday, early
        assertThat(nightsAndWeekends.contains(paris("2026-12-08T06:00:00"))).isFalse();
        assertThat(nightsAndWeekends.contains(paris("2026-12-07T03:00:00")))
                .as("Monday 03:00 belongs to Sunday night, and Sunday is a whole-day window")
                .isFalse();
        assertThat(nightsAndWeekends.contains(paris("2026-12-12T06:30:00")))
                .as("Saturday")
                .isTrue();
        assertThat(nightsAndWeekends.contains(paris("2026-12-12T03:00:00")))
                .as("Friday night into Saturday")
                .isTrue();
    }

    @Test
    void theNextOpeningIsNowInsideAWindowAndTheNextStartOutside() {
        Instant monday = paris("2026-12-07T10:00:00");
        assertThat(nightsAndWeekends.nextOpening(monday)).isEqualTo(paris("2026-12-07T22:00:00"));
        Instant inside = paris("2026-12-07T23:00:00");
        assertThat(nightsAndWeekends.nextOpening(inside)).isEqualTo(inside);
        MergeWindows sundays = new MergeWindows(List.of("Sun 01:00-02:00"), "UTC");
        assertThat(sundays.nextOpening(Instant.parse("2026-12-07T00:00:00Z")))
                .isEqualTo(Instant.parse("2026-12-13T01:00:00Z"));
    }

    @Test
    void theZonesDaylightSavingTimeIsFollowed() {
        MergeWindows mornings = new MergeWindows(List.of("08:00-09:00"), "Europe/Paris");
        assertThat(mornings.contains(Instant.parse("2026-01-15T07:30:00Z"))).isTrue(); // UTC+1 in winter
        assertThat(mornings.contains(Instant.parse("2026-07-15T07:30:00Z"))).isFalse(); // UTC+2 in summer
        assertThat(mornings.contains(Instant.parse("2026-07-15T06:30:00Z"))).isTrue();
    }

    @Test
    void secondsAnd24HundredAndDayListsAreUnderstood() {
        MergeWindows windows = new MergeWindows(List.of("Mon,Wed 23:00-24:00", "Fri-Mon 10:00:30-10:00:40"), null);
        assertThat(windows.timeZone()).isEqualTo("UTC");
        assertThat(windows.contains(Instant.parse("2026-12-07T23:59:59Z"))).isTrue(); // Monday
        assertThat(windows.contains(Instant.parse("2026-12-08T23:30:00Z"))).isFalse(); // Tuesday
        assertThat(windows.contains(Instant.parse("2026-12-06T10:00:35Z"))).isTrue(); // Sunday, in Fri-Mon
        assertThat(windows.contains(Instant.parse("2026-12-06T10:00:40Z"))).isFalse();
    }

    @Test
    void badWindowsAreRefusedNamingTheWindowAndWhatIsWrong() {
        assertThatThrownBy(() -> new MergeWindows(List.of("Mon-Fry 22:00-06:00"), "UTC"))
                .hasMessageContaining("\"Fry\" is not a day");
        assertThatThrownBy(() -> new MergeWindows(List.of("Mon 25:00-06:00"), "UTC"))
                .hasMessageContaining("\"25:00\" is not a time");
        assertThatThrownBy(() -> new MergeWindows(List.of("22:00-22:00"), "UTC"))
                .hasMessageContaining("same time");
        assertThatThrownBy(() -> new MergeWindows(List.of("22:00-06:00 Mon"), "UTC"))
                .hasMessageContaining("days come before the hours");
        assertThatThrownBy(() -> new MergeWindows(List.of("Sat"), "Mars/Olympus"))
                .hasMessageContaining("timeZone");
        assertThatThrownBy(() -> new MergeWindows(List.of(), "UTC")).hasMessageContaining("at least one");
        assertThat(MergeWindows.of(List.of(), null)).isNull();
    }

    @Test
    void windowsTravelInAMergeJobAndAJobWithoutThemIsWrittenAsBefore() throws Exception {
        MessageCodec codec = new MessageCodec(new JsonCodec());
        MergeJob job = new MergeJob(
                Schema.VERSION,
                "j1",
                "c1",
                "pool-a",
                Instant.parse("2026-12-07T10:00:00Z"),
                "/srv/v1/vm.vhdx",
                "/srv/v1/vm_1.avhdx",
                null,
                null,
                null,
                false,
                0,
                null);
        assertThat(new String(codec.write(job), java.nio.charset.StandardCharsets.UTF_8))
                .doesNotContain("windows");
        MergeJob windowed = job.withWindows(nightsAndWeekends);
        assertThat(codec.readJob(codec.write(windowed))).isEqualTo(windowed);
    }
}
