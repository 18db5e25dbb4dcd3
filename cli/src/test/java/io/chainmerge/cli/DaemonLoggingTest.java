package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.common.log.LogContext;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The daemons' log lines as the launcher sets them up: text with an ISO-8601 time and what the line concerns (the
 * shipped logback.xml), or one JSON object per line with the same in its mdc field ({@code log.format: json}).
 */
class DaemonLoggingTest {
    private static final SpaceCheckJob JOB =
            new SpaceCheckJob(Schema.VERSION, "c-1-scan-p", "c-1", "p", Instant.now(), List.of());

    @Test
    void theShippedTextFormatCarriesAnIsoTimeWithItsOffsetAndTheJobALineConcerns() throws Exception {
        LoggerContext context = new LoggerContext();
        // The MDC LogContext writes to: SLF4J's, which a context of one's own does not have by itself.
        context.setMDCAdapter(org.slf4j.MDC.getMDCAdapter());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        String line = stderrOf(() -> {
            try {
                configurator.doConfigure(DaemonLogging.class.getResource("/logback.xml"));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            try (LogContext job = LogContext.ofJob(JOB, "host-a")) {
                context.getLogger("io.chainmerge.worker.JobExecutions").info("job {} started", JOB.jobId());
            }
            context.getLogger("io.chainmerge.worker.Worker").info("no job here");
            context.getLogger("org.apache.kafka.Noise").info("a library's info line");
            context.stop();
        });
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .noneMatch(status -> status.getLevel() >= ch.qos.logback.core.status.Status.WARN);

        assertThat(line.split("\n"))
                .satisfiesExactly(
                        job -> assertThat(job)
                                .matches(
                                        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) \\[[^]]+] "
                                                + "INFO JobExecutions \\[.*] - job c-1-scan-p started")
                                .contains("campaignId=c-1", "jobId=c-1-scan-p", "pool=p", "worker=host-a"),
                        plain -> assertThat(plain).endsWith("INFO Worker - no job here"));
    }

    @Test
    void jsonLinesParseAndCarryTheJobInTheirMdcAndAnIsoTime() throws Exception {
        Appender<ILoggingEvent>[] previous = new Appender[1];
        String out = stderrOf(() -> {
            previous[0] = DaemonLogging.use(LogFormat.JSON);
            try (LogContext job = LogContext.ofJob(JOB, "host-a")) {
                LoggerFactory.getLogger("io.chainmerge.worker.JobExecutions").info("job {} started", JOB.jobId());
            } finally {
                DaemonLogging.restore(previous[0]);
            }
        });

        JsonNode line = new ObjectMapper().readTree(out.strip());
        assertThat(line.path("formattedMessage").asText()).isEqualTo("job c-1-scan-p started");
        assertThat(line.path("level").asText()).isEqualTo("INFO");
        assertThat(line.path("mdc").path(LogContext.CAMPAIGN).asText()).isEqualTo("c-1");
        assertThat(line.path("mdc").path(LogContext.JOB).asText()).isEqualTo("c-1-scan-p");
        assertThat(line.path("mdc").path(LogContext.POOL).asText()).isEqualTo("p");
        assertThat(line.path("mdc").path(LogContext.WORKER).asText()).isEqualTo("host-a");
        assertThat(Instant.parse(line.path("time").asText()).toEpochMilli())
                .isEqualTo(line.path("timestamp").asLong());
    }

    @Test
    void aDaemonWhoseLoopDiedSaysWhyInItsLogFormatAndExitsNonZero() throws Exception {
        Appender<ILoggingEvent>[] previous = new Appender[1];
        boolean[] closed = {false};
        int[] exit = {0};
        String out = stderrOf(() -> {
            previous[0] = DaemonLogging.use(LogFormat.JSON);
            try {
                exit[0] = DaemonOptions.runUntilStopped(
                        () -> closed[0] = true,
                        java.util.concurrent.CompletableFuture.completedFuture("chainmerge-jobs-w1 stopped"),
                        "worker",
                        () -> java.util.concurrent.CompletableFuture.completedFuture(true));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                DaemonLogging.restore(previous[0]);
            }
        });

        assertThat(exit[0]).isEqualTo(ExitCodes.FAILURE);
        assertThat(closed[0]).isTrue();
        JsonNode line = new ObjectMapper().readTree(out.strip());
        assertThat(line.path("level").asText()).isEqualTo("ERROR");
        assertThat(line.path("formattedMessage").asText())
                .isEqualTo("chainmerge worker: exiting, chainmerge-jobs-w1 stopped");
    }

    /** What {@code run} writes to standard error, where the console appenders write. */
    private static String stderrOf(Runnable run) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            run.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
