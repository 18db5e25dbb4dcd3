package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class WriteRateLimitTest {
    /** A clock the test moves. */
    private static final class Manual extends Clock {
        Instant now = Instant.parse("2026-12-07T12:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void aBurstGoesThroughThenTheRateHoldsAndSaysHowLongToWait() {
        Manual clock = new Manual();
        WriteRateLimit limit = new WriteRateLimit(60, 3, clock);
        assertThat(limit.take("ops")).isEmpty();
        assertThat(limit.take("ops")).isEmpty();
        assertThat(limit.take("ops")).isEmpty();
        assertThat(limit.take("ops")).hasValue(Duration.ofSeconds(1));
        assertThat(limit.take("other")).as("a bucket per principal").isEmpty();
        clock.now = clock.now.plusMillis(1000);
        assertThat(limit.take("ops")).isEmpty();
        assertThat(limit.take("ops")).isPresent();
        clock.now = clock.now.plus(Duration.ofHours(1));
        for (int i = 0; i < 3; i++) {
            assertThat(limit.take("ops")).as("refilled to the burst, no more").isEmpty();
        }
        assertThat(limit.take("ops")).isPresent();
    }
}
