package io.chainmerge.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The meters every daemon has besides its own: Micrometer's JVM (memory, GC, threads, class loading), process
 * (CPU, uptime, file descriptors) and Kafka-client binders, on the daemon's own registry. Some binders hold
 * resources (GC notifications, the Kafka binders' refresh thread): {@link #close()} releases them.
 */
public final class DaemonMeters implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** One thread picks up the metrics a Kafka client adds as it runs, for all of the daemon's clients. */
    private final ScheduledExecutorService refresh = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "chainmerge-kafka-meters");
        thread.setDaemon(true);
        return thread;
    });

    public DaemonMeters(MeterRegistry registry) {
        this.registry = registry;
        JvmGcMetrics gc = new JvmGcMetrics();
        closeables.add(gc);
        for (MeterBinder binder : List.of(
                new JvmMemoryMetrics(),
                gc,
                new JvmThreadMetrics(),
                new ClassLoaderMetrics(),
                new ProcessorMetrics(),
                new UptimeMetrics(),
                new FileDescriptorMetrics())) {
            binder.bindTo(registry);
        }
    }

    /** The client's own metrics (fetch lag, request latency, records sent), tagged with its client id. */
    public <C extends Consumer<?, ?>> C kafka(C consumer) {
        return bind(new KafkaClientMetrics(consumer, List.of(), refresh), consumer);
    }

    public <P extends Producer<?, ?>> P kafka(P producer) {
        return bind(new KafkaClientMetrics(producer, List.of(), refresh), producer);
    }

    private synchronized <T> T bind(KafkaClientMetrics metrics, T client) {
        metrics.bindTo(registry);
        closeables.add(metrics);
        return client;
    }

    @Override
    public synchronized void close() {
        for (AutoCloseable closeable : closeables) {
            try {
                closeable.close();
            } catch (Exception e) {
                // Closing meters releases listeners and a timer thread; nothing to tell anyone.
            }
        }
        closeables.clear();
        refresh.shutdownNow();
    }
}
