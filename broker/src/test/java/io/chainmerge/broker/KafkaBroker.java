package io.chainmerge.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real broker for a test class: started before its first test on a folder of its own, stopped and
 * deleted after its last. Register it as {@code @RegisterExtension static final KafkaBroker broker = new
 * KafkaBroker();}, then take {@link #bootstrapServers()} for clients and {@link #probe()} to read and write
 * topics as the daemons would.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> overrides;
    private Path folder;
    private EmbeddedKafka kafka;
    private TopicProbe probe;

    /** A broker with the project's test settings. */
    public KafkaBroker() {
        this(Map.of());
    }

    /** A broker with settings that override the defaults. */
    public KafkaBroker(Map<String, String> overrides) {
        this.overrides = Map.copyOf(overrides);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        folder = Files.createTempDirectory("chainmerge-kafka-");
        kafka = EmbeddedKafka.start(folder.resolve("kafka"), overrides);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (probe != null) {
                probe.close();
            }
            kafka.close();
        } finally {
            try (Stream<Path> files = Files.walk(folder)) {
                files.sorted(Comparator.reverseOrder()).forEach(KafkaBroker::delete);
            }
        }
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The broker itself, to stop and restart it as an outage looks to clients. */
    public EmbeddedKafka kafka() {
        return kafka;
    }

    /** A client for the tests' own reads and writes, made on first use and closed with the broker. */
    public synchronized TopicProbe probe() {
        if (probe == null) {
            probe = new TopicProbe(kafka.bootstrapServers());
        }
        return probe;
    }

    private static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
