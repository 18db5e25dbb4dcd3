package io.chainmerge.coordinator;

import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.InventoryPages;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.message.VolumeScan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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
 * A scan arrives in pages, on any partitions; it counts only once every page of it is read
 * ({@link InventoryPages.Assembly}), and a volume's latest is the complete scan scanned last.
 */
final class InventoryView implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(InventoryView.class);

    private final Consumer<String, byte[]> consumer;
    private final String topic;
    private final MessageCodec codec;
    private final Map<String, VolumeInventory> latest = new ConcurrentHashMap<>();
    /**
     * Complete scans by id, the latest few of each volume: a campaign plans from exactly the scans its
     * space checks name, even when another campaign's check of the same volume finished since.
     */
    private final Map<String, VolumeInventory> scans = new ConcurrentHashMap<>();
    /** The ids in {@link #scans} of each volume (read thread only). */
    private final Map<String, List<String>> keptScans = new HashMap<>();
    /** Pages of scans not complete yet, by volume and scan id (read thread only). */
    private final Map<String, Map<String, InventoryPages.Assembly>> assembling = new HashMap<>();

    /** How many complete scans of one volume stay readable by id. */
    static final int SCANS_KEPT_PER_VOLUME = 4;
    /** Every disk of {@link #latest}, by pool and path: a backup request asks for one at a time, thousands a night. */
    private final Map<String, Located> disks = new ConcurrentHashMap<>();

    private volatile boolean running = true;
    /**
     * Everything on the topic when the view started has been read: before that, a scan not found here may
     * only not be read yet (a coordinator that starts, or takes over, plans from what the topic holds).
     */
    private volatile boolean caughtUp;

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
            Map<TopicPartition, Long> ends = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                        accept(record.key(), record.value());
                    }
                    if (!caughtUp) {
                        ends.entrySet().removeIf(end -> consumer.position(end.getKey()) >= end.getValue());
                        caughtUp = ends.isEmpty();
                    }
                } catch (WakeupException e) {
                    // stop() woke the loop
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** One record of the inventory topic, read in the order of its partition. */
    void accept(String key, byte[] value) {
        if (value == null) {
            if (key != null && key.indexOf('#') < 0) {
                // an earlier release's whole-volume record, withdrawn
                forget(latest.remove(key));
            }
            return; // a stale page's tombstone: the scans it belonged to are superseded
        }
        try {
            VolumeInventory page = codec.read(value, VolumeInventory.class);
            if (page.scanId() == null) {
                completed(page);
                return;
            }
            if (scans.containsKey(page.scanId())) {
                return; // a page read again (a compaction, a retry) of a scan already whole here
            }
            Map<String, InventoryPages.Assembly> scansOfVolume =
                    assembling.computeIfAbsent(page.key(), k -> new HashMap<>());
            InventoryPages.Assembly assembly = scansOfVolume.get(page.scanId());
            if (assembly == null) {
                assembly = new InventoryPages.Assembly(page);
                scansOfVolume.put(page.scanId(), assembly);
                // Pages of scans that never complete (their pages replaced by newer scans' on the compacted
                // topic) are let go, the oldest first; a few scans of one volume may be under way at once.
                while (scansOfVolume.size() > SCANS_KEPT_PER_VOLUME) {
                    scansOfVolume.values().stream()
                            .min(java.util.Comparator.comparing(a -> a.first().scannedAt()))
                            .ifPresent(oldest -> scansOfVolume.remove(oldest.scanId()));
                }
            }
            Optional<VolumeInventory> whole;
            try {
                whole = assembly.add(page);
            } catch (MalformedMessageException e) {
                scansOfVolume.remove(page.scanId());
                LOG.warn("dropping scan {} of {}: {}", page.scanId(), page.key(), e.getMessage());
                return;
            }
            if (whole.isPresent()) {
                scansOfVolume.remove(page.scanId());
                if (scansOfVolume.isEmpty()) {
                    assembling.remove(page.key());
                }
                completed(whole.get());
            }
        } catch (MalformedMessageException e) {
            LOG.warn("ignoring an unreadable inventory record {}: {}", key, e.getMessage());
        }
    }

    /** A scan read whole: kept by its id for the campaigns that name it, and the volume's latest if newest. */
    private void completed(VolumeInventory whole) {
        if (whole.scanId() != null) {
            scans.put(whole.scanId(), whole);
            List<String> kept = keptScans.computeIfAbsent(whole.key(), k -> new ArrayList<>());
            kept.add(whole.scanId());
            while (kept.size() > SCANS_KEPT_PER_VOLUME) {
                String oldest = kept.stream()
                        .min(java.util.Comparator.comparing(id -> scans.get(id).scannedAt()))
                        .orElseThrow();
                kept.remove(oldest);
                scans.remove(oldest);
            }
        }
        VolumeInventory current = latest.get(whole.key());
        if (current == null || !current.scannedAt().isAfter(whole.scannedAt())) {
            latest.put(whole.key(), whole);
            forget(current);
            index(whole).forEach(disks::put);
        }
    }

    /**
     * The whole inventory of the scan a space check's result names, once every page of it has been read;
     * empty while pages are missing, or when it is no longer held (superseded by {@value
     * #SCANS_KEPT_PER_VOLUME} newer scans of the volume). A result of an earlier release named no scan:
     * it answers the volume's latest inventory.
     */
    Optional<VolumeInventory> scan(VolumeScan named) {
        if (named.scanId() == null) {
            return Optional.ofNullable(latest.get(named.key()));
        }
        return Optional.ofNullable(scans.get(named.scanId()));
    }

    /**
     * The inventories of every volume a space check's result names, or empty while any of them is not
     * complete here. Each is the scan named, whole; only when that scan is no longer held here (replaced
     * by newer scans of the volume before this coordinator read it, say after a restart) the volume's
     * latest complete scan, which is newer. Never pages of two scans, never an older scan.
     */
    Optional<List<VolumeInventory>> scans(List<VolumeScan> named) {
        List<VolumeInventory> found = new ArrayList<>();
        for (VolumeScan volume : named) {
            Optional<VolumeInventory> whole = scan(volume).or(() -> newer(volume));
            if (whole.isEmpty()) {
                return Optional.empty();
            }
            found.add(whole.get());
        }
        return Optional.of(found);
    }

    private Optional<VolumeInventory> newer(VolumeScan volume) {
        return Optional.ofNullable(latest.get(volume.key()))
                .filter(whole -> whole.scannedAt().isAfter(volume.scannedAt()));
    }

    /**
     * What a space check's result names, for a use after its plan (a recovery, a backup request): the
     * scan itself while it is held, else the volume's latest inventory, which is newer.
     */
    List<VolumeInventory> scannedOrLatest(List<VolumeScan> named) {
        List<VolumeInventory> found = new ArrayList<>();
        for (VolumeScan volume : named) {
            scan(volume).or(() -> Optional.ofNullable(latest.get(volume.key()))).ifPresent(found::add);
        }
        return found;
    }

    /** Whether the view has read what the topic held when it started. */
    boolean caughtUp() {
        return caughtUp;
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
