package io.chainmerge.common.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** A log context names what runs while it runs and leaves the thread as it found it, nested or not. */
class LogContextTest {
    @AfterEach
    void clear() {
        MDC.clear();
    }

    @Test
    void aJobsContextNamesItsCampaignJobPoolAndWorkerAndLeavesNothingBehind() {
        SpaceCheckJob job = new SpaceCheckJob(Schema.VERSION, "c-1-scan-p", "c-1", "p", Instant.now(), List.of());
        try (LogContext context = LogContext.ofJob(job, "host-a")) {
            assertThat(MDC.getCopyOfContextMap())
                    .containsEntry(LogContext.CAMPAIGN, "c-1")
                    .containsEntry(LogContext.JOB, "c-1-scan-p")
                    .containsEntry(LogContext.POOL, "p")
                    .containsEntry(LogContext.WORKER, "host-a");
        }
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    }

    @Test
    void anInnerContextPutsBackWhatTheOuterOneSet() {
        try (LogContext result = LogContext.ofResult("c-1", "j-1", "p", "w")) {
            try (LogContext campaign = LogContext.ofCampaign("c-2")) {
                assertThat(MDC.get(LogContext.CAMPAIGN)).isEqualTo("c-2");
                assertThat(MDC.get(LogContext.JOB)).isEqualTo("j-1");
            }
            assertThat(MDC.get(LogContext.CAMPAIGN)).isEqualTo("c-1");
        }
        assertThat(MDC.get(LogContext.CAMPAIGN)).isNull();
    }

    @Test
    void anUnknownValueIsLeftOutRatherThanLoggedAsNull() {
        try (LogContext context = LogContext.ofResult(null, "j-1", "p", "w")) {
            assertThat(MDC.getCopyOfContextMap()).doesNotContainKey(LogContext.CAMPAIGN);
        }
    }
}
