package io.chainmerge.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import io.chainmerge.common.config.LogFormat;
import java.io.OutputStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.slf4j.LoggerFactory;

/**
 * The daemons' log format, applied once their settings are read and before they start: {@code text} keeps
 * logback.xml's console appender; {@code json} puts Logback's own JSON encoder in its place, one object per
 * line on standard error, with the campaign, job, pool and worker of a line in its {@code mdc} field.
 */
final class DaemonLogging {
    static final String APPENDER = "CONSOLE";

    private DaemonLogging() {}

    /** Returns the appender it replaced, if it replaced one (what {@link #restore} puts back). */
    static Appender<ILoggingEvent> use(LogFormat format) {
        if (format == LogFormat.JSON) {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setTarget("System.err");
            return replaceConsole(console);
        }
        return root().getAppender(APPENDER);
    }

    /** JSON lines to {@code out} instead of the console; what a test reads. Returns the appender it replaced. */
    static Appender<ILoggingEvent> jsonTo(OutputStream out) {
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setOutputStream(out);
        return replaceConsole(appender);
    }

    /** Puts {@code previous} (what {@link #jsonTo} returned) back. */
    static void restore(Appender<ILoggingEvent> previous) {
        ch.qos.logback.classic.Logger root = root();
        Appender<ILoggingEvent> current = root.getAppender(APPENDER);
        if (current == previous) {
            return;
        }
        root.detachAppender(APPENDER);
        if (current != null) {
            current.stop();
        }
        if (previous != null) {
            root.addAppender(previous);
        }
    }

    /** The demo's own lines tell its story; the daemons' info lines would bury them. */
    static void quiet() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.chainmerge")).setLevel(Level.WARN);
    }

    private static Appender<ILoggingEvent> replaceConsole(OutputStreamAppender<ILoggingEvent> appender) {
        ch.qos.logback.classic.Logger root = root();
        LoggerContext context = root.getLoggerContext();
        IsoTimeJsonEncoder encoder = new IsoTimeJsonEncoder();
        encoder.setContext(context);
        // The message once, with its arguments in it: what a person searches for.
        encoder.setWithMessage(false);
        encoder.setWithArguments(false);
        encoder.setWithFormattedMessage(true);
        encoder.setWithContext(false);
        encoder.setWithSequenceNumber(false);
        encoder.start();
        appender.setContext(context);
        appender.setName(APPENDER);
        appender.setEncoder(encoder);
        appender.start();
        Appender<ILoggingEvent> previous = root.getAppender(APPENDER);
        root.detachAppender(APPENDER);
        root.addAppender(appender);
        return previous;
    }

    private static ch.qos.logback.classic.Logger root() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** Logback's JSON, plus the time as ISO-8601 with its offset: its own {@code timestamp} is epoch milliseconds. */
    static final class IsoTimeJsonEncoder extends JsonEncoder {
        private static final DateTimeFormatter ISO =
                DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(ZoneId.systemDefault());

        @Override
        protected void appendCustomFields(StringBuilder json, ILoggingEvent event) {
            json.append(",\"time\":\"")
                    .append(ISO.format(Instant.ofEpochMilli(event.getTimeStamp())))
                    .append('"');
        }
    }
}
