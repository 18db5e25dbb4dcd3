package io.chainmerge.coordinator;

import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.VolumeInventory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's inventory: the latest space check of every host's volume, read from the compacted
 * {@code chainmerge.inventory} topic from its beginning (no consumer group: every coordinator sees it all).
 */
final class InventoryView implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(InventoryView.class);

    private final Consumer<String, byte[]> consumer;
    private final String topic;
    private final MessageCodec codec;
    private final Map<String, VolumeInventory> latest = new ConcurrentHashMap<>();
    /** Every disk of {@link #latest}, by pool and path: a backup request asks for one at a time, thousands a night. */
    private final Map<String, Located> disks = new ConcurrentHashMap<>();

    private volatile boolean running = true;

    InventoryView(Consumer<String, byte[]> consumer, String topic, MessageCodec codec) {
        this.consumer = consumer;
        this.topic = topic;
        this.codec = codec;
    }

    @Override
    public void run() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                        if (record.value() == null) {
                            forget(latest.remove(record.key()));
                            continue;
                        }
                        try {
                            VolumeInventory volume = codec.read(record.value(), VolumeInventory.class);
                            forget(latest.put(record.key(), volume));
                            index(volume).forEach(disks::put);
                        } catch (MalformedMessageException e) {
                            LOG.warn("ignoring an unreadable inventory record {}: {}", record.key(), e.getMessage());
                        }
                    }
                } catch (WakeupException e) {
                    // stop() woke the loop
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Every volume's latest inventory, ordered by host and volume. */
    List<VolumeInventory> snapshot() {
        return List.copyOf(new TreeMap<>(latest).values());
    }

    /**
     * One page of the volumes that pass {@code filter}, ordered by their key ({@code host:volume}, the
     * cursor); the whole view is sorted, so call it off the event loop.
     */
    Page<VolumeInventory> page(Page.Request request, java.util.function.Predicate<VolumeInventory> filter) {
        List<Map.Entry<String, VolumeInventory>> sorted = new TreeMap<>(latest)
                .entrySet().stream().filter(e -> filter.test(e.getValue())).toList();
        Page<Map.Entry<String, VolumeInventory>> page = request.page(sorted, Map.Entry::getKey);
        return new Page<>(page.items().stream().map(Map.Entry::getValue).toList(), page.next());
    }

    /** A disk as an inventory places it: the worker and volume root that hold it, and its place in its chain. */
    record Located(String pool, String host, String volume, InventoryDisk disk) {}

    /** Where the latest inventories place {@code path} in {@code pool}, if any has seen it. */
    Optional<Located> find(String pool, String path) {
        return Optional.ofNullable(disks.get(pool + "|" + path));
    }

    /** Every disk of some inventories, keyed by pool and path, as {@link #find} looks them up. */
    static Map<String, Located> index(Collection<VolumeInventory> inventories) {
        Map<String, Located> index = new java.util.HashMap<>();
        inventories.forEach(volume -> index.putAll(index(volume)));
        return index;
    }

    private static Map<String, Located> index(VolumeInventory volume) {
        Map<String, Located> index = new java.util.HashMap<>();
        for (InventoryDisk disk : volume.disks()) {
            index.put(
                    volume.pool() + "|" + disk.path(),
                    new Located(volume.pool(), volume.host(), volume.volume(), disk));
        }
        return index;
    }

    private void forget(VolumeInventory replaced) {
        if (replaced != null) {
            index(replaced).keySet().forEach(disks::remove);
        }
    }

    /** The id a host's volume root reported in its latest space check, or null. */
    String volumeId(String host, String volume) {
        VolumeInventory latest = this.latest.get(host + ":" + volume);
        return latest == null ? null : latest.volumeId();
    }

    /** The pool a worker serves, from its latest inventory. */
    Optional<String> poolOf(String host) {
        // a handful of volumes per host: a scan of the latest inventories is cheap
        return latest.values().stream()
                .filter(v -> v.host().equals(host))
                .map(VolumeInventory::pool)
                .findFirst();
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }
}
