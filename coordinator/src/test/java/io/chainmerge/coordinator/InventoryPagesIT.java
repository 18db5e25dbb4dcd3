package io.chainmerge.coordinator;

import static io.chainmerge.coordinator.CoordinatorCalls.report;
import static io.chainmerge.coordinator.CoordinatorCalls.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.KafkaBroker;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.InventoryPages;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.SpaceCheckJob;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.message.VolumeScan;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A space check's inventory travels in pages on {@code chainmerge.inventory}, each far under Kafka's default
 * 1 MiB record limit however many disks the volume holds; the result names the scan without its disks, so
 * the coordinator's state never holds them; and a scan whose pages are not all there (torn between two scans,
 * or never finished) is never planned from.
 */
class InventoryPagesIT {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @Test
    void aScanOfOneHundredThousandDisksTravelsInPagesFarUnderTheDefaultRecordLimit() throws Exception {
        // the broker's defaults: max.message.bytes 1 MiB
        String topic = topic("pages");
        VolumeInventory whole = volume("storage-a", "/srv/big", Instant.parse("2026-12-01T10:00:00Z"), 100_000);
        List<VolumeInventory> pages = InventoryPages.split(whole, "scan-big", CODEC, InventoryPages.PAGE_BYTES);
        assertThat(pages).hasSizeGreaterThan(10);

        int largest = 0;
        // TopicProbe's producer keeps Kafka's default max.request.size of 1 MiB, uncompressed
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            for (VolumeInventory page : pages) {
                byte[] value = CODEC.write(page);
                largest = Math.max(largest, value.length);
                probe.send(topic, page.pageKey(), value);
            }
        }
        assertThat(largest).as("the largest page, in bytes").isLessThanOrEqualTo(InventoryPages.PAGE_BYTES);
        assertThat(largest).isLessThan(1 << 20);

        InventoryView view = view(topic);
        Thread reader = new Thread(view, "inventory-view-it");
        reader.start();
        try {
            VolumeScan named = pages.get(0).summary();
            await().atMost(Duration.ofSeconds(60)).until(() -> view.scan(named).isPresent());
            VolumeInventory read = view.scan(named).orElseThrow();
            assertThat(read.disks())
                    .extracting(InventoryDisk::path)
                    .containsExactlyElementsOf(
                            whole.disks().stream().map(InventoryDisk::path).toList());
            assertThat(read.diskCount()).isEqualTo(100_000);
            assertThat(view.find("pool-a", "/srv/big/vm99999/disk_1.avhdx")).isPresent();
            // what the result says of the scan is small whatever the volume holds
            assertThat(CODEC.write(named).length).isLessThan(1024);
        } finally {
            view.stop();
            reader.join(10_000);
        }
    }

    @Test
    void pagesOfTwoScansNeverMakeAnInventory() throws Exception {
        String topic = topic("torn");
        Instant first = Instant.parse("2026-12-01T10:00:00Z");
        List<VolumeInventory> older =
                InventoryPages.split(volume("storage-b", "/srv/v", first, 300), "scan-1", CODEC, 8192);
        List<VolumeInventory> newer =
                InventoryPages.split(volume("storage-b", "/srv/v", first.plusSeconds(60), 310), "scan-2", CODEC, 8192);
        assertThat(older).hasSizeGreaterThan(3);
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            // The older scan, but its last page was overwritten by the newer scan's, which stopped there.
            for (VolumeInventory page : older.subList(0, older.size() - 1)) {
                probe.send(topic, page.pageKey(), CODEC.write(page));
            }
            VolumeInventory torn = newer.get(older.size() - 1);
            probe.send(topic, torn.pageKey(), CODEC.write(torn));
        }
        InventoryView view = view(topic);
        Thread reader = new Thread(view, "inventory-view-it");
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(view::caughtUp);
            assertThat(view.scans(List.of(older.get(0).summary()))).isEmpty();
            assertThat(view.scans(List.of(newer.get(0).summary()))).isEmpty();
            assertThat(view.snapshot()).isEmpty();
            assertThat(view.find("pool-a", "/srv/v/vm00000/disk.vhdx")).isEmpty();

            // The newer scan arrives whole: it, and only it, is the volume's inventory.
            try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
                for (VolumeInventory page : newer) {
                    probe.send(topic, page.pageKey(), CODEC.write(page));
                }
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> view.scans(List.of(newer.get(0).summary())).isPresent());
            assertThat(view.scans(List.of(newer.get(0).summary()))
                            .orElseThrow()
                            .get(0)
                            .disks())
                    .hasSize(310);
            // the torn older scan is never put together; asked for, it answers the newer, whole
            assertThat(view.scan(older.get(0).summary())).isEmpty();
            assertThat(view.scans(List.of(older.get(0).summary()))
                            .orElseThrow()
                            .get(0)
                            .scanId())
                    .isEqualTo("scan-2");
        } finally {
            view.stop();
            reader.join(10_000);
        }
    }

    @Test
    void aCampaignPlansFromTheScanItsResultNamesAndFailsOneWhosePagesNeverAllArrive() throws Exception {
        Map<String, Object> settings = new HashMap<>();
        settings.put("coordinator.id", "pages");
        settings.put("coordinator.group", "pages");
        settings.put("topics.prefix", "pages");
        settings.put("topics.partitions", 3);
        settings.put("tick", "100ms");
        settings.put("http.host", "127.0.0.1");
        settings.put("http.port", 0);
        settings.put("security.mode", "insecure");
        settings.put("kafka.bootstrap.servers", broker.bootstrapServers());
        try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(settings));
                TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            String whole =
                    submit(coordinator, "name: whole\npools: [pool-w]\naction: merge-to-root\nscanTimeout: 2m\n");
            String torn = submit(coordinator, "name: torn\npools: [pool-t]\naction: merge-to-root\nscanTimeout: 20s\n");
            // The whole one plans as soon as its pages are read, long before its scanTimeout; the torn one's
            // result arrives well within its scanTimeout, so only its missing page can fail it.
            answerSpaceCheck(probe, "pool-w", whole, false);
            answerSpaceCheck(probe, "pool-t", torn, true);

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                            report(coordinator, whole).path("jobs").findValuesAsText("kind"))
                    .contains("merge"));
            JsonNode planned = report(coordinator, whole);
            assertThat(planned.path("skipped").findValuesAsText("reason")).doesNotContain("inventory-incomplete");

            await().atMost(Duration.ofSeconds(60))
                    .until(() ->
                            report(coordinator, torn).path("state").asText().equals("finished"));
            JsonNode failed = report(coordinator, torn);
            assertThat(failed.path("jobs").findValuesAsText("kind")).doesNotContain("merge");
            assertThat(failed.path("skipped").findValuesAsText("reason")).containsExactly("inventory-incomplete");
            assertThat(failed.path("skipped").findValuesAsText("message").get(0))
                    .contains("storage-pool-t:/srv/pool-t")
                    .contains("did not arrive whole");
        }

        // The state topic holds what the results named, never a disk: every record stays small.
        int largest = 0;
        try (TopicProbe probe = new TopicProbe(broker.bootstrapServers())) {
            for (ConsumerRecord<String, byte[]> record : probe.committed(List.of("pages.campaigns"))) {
                if (record.value() != null) {
                    largest = Math.max(largest, record.value().length);
                    assertThat(new String(record.value())).doesNotContain("\"disks\"");
                }
            }
        }
        assertThat(largest)
                .as("the largest record on the state topic, in bytes")
                .isLessThan(8 * 1024);
    }

    /**
     * Answers the pool's space check as its worker would: a volume of 20,000 disks, one of them a child to
     * merge, in pages of at most 64 KiB, then the result; {@code torn} leaves the last page out.
     */
    private static void answerSpaceCheck(TopicProbe probe, String pool, String campaignId, boolean torn)
            throws Exception {
        SpaceCheckJob check;
        try (TopicProbe.Reader jobs = probe.reader("pages.jobs." + pool)) {
            check = await().atMost(Duration.ofSeconds(30)).until(() -> spaceCheck(jobs, campaignId), j -> j != null);
        }
        String host = "storage-" + pool;
        VolumeInventory whole = inventory(check.jobId(), campaignId, pool, host, "/srv/" + pool, Instant.now(), 20_000);
        List<VolumeInventory> pages =
                InventoryPages.split(whole, UUID.randomUUID().toString(), CODEC, 64 * 1024);
        for (VolumeInventory page : torn ? pages.subList(0, pages.size() - 1) : pages) {
            probe.send("pages.inventory", page.pageKey(), CODEC.write(page));
        }
        JobResult result = JobResult.succeeded(check, host, Instant.now(), Duration.ofMillis(5))
                .withInventory(List.of(pages.get(0).summary()));
        probe.send("pages.results", result.jobId(), CODEC.write(result));
    }

    private static SpaceCheckJob spaceCheck(TopicProbe.Reader jobs, String campaignId) throws Exception {
        for (ConsumerRecord<String, byte[]> record : jobs.poll()) {
            Job job = CODEC.readJob(record.value());
            if (job instanceof SpaceCheckJob check && check.campaignId().equals(campaignId)) {
                return check;
            }
        }
        return null;
    }

    /** A new inventory topic of three partitions, with the broker's default settings. */
    private static String topic(String name) throws Exception {
        String topic = name + "-" + UUID.randomUUID() + ".inventory";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        return topic;
    }

    private static InventoryView view(String topic) {
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                Map.of("bootstrap.servers", broker.bootstrapServers(), "max.partition.fetch.bytes", 1 << 20),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        return new InventoryView(consumer, topic, CODEC);
    }

    private static VolumeInventory volume(String host, String volume, Instant scannedAt, int disks) {
        return inventory("c-1-scan-pool-a", "c-1", "pool-a", host, volume, scannedAt, disks);
    }

    /** A volume of {@code count} disks: standalone roots, and one root with a child to merge. */
    private static VolumeInventory inventory(
            String jobId, String campaignId, String pool, String host, String volume, Instant scannedAt, int count) {
        List<InventoryDisk> disks = new ArrayList<>(count);
        Instant modified = Instant.parse("2026-11-01T00:00:00Z");
        for (int i = 0; i < count - 2; i++) {
            disks.add(new InventoryDisk(
                    "%s/vm%05d/disk.vhdx".formatted(volume, i),
                    "VHDX",
                    "DYNAMIC",
                    1L << 34,
                    1L << 26,
                    modified,
                    "ROOT",
                    null,
                    List.of(),
                    1,
                    "%s/vm%05d/disk.vhdx".formatted(volume, i),
                    null));
        }
        String base = "%s/vm99999/disk.vhdx".formatted(volume);
        String child = "%s/vm99999/disk_1.avhdx".formatted(volume);
        disks.add(new InventoryDisk(
                base, "VHDX", "DYNAMIC", 1L << 34, 1L << 26, modified, "ROOT", null, List.of(child), 1, base, null));
        disks.add(new InventoryDisk(
                child, "VHDX", "DIFFERENCING", 1L << 34, 1L << 24, modified, "LINKED", base, List.of(), 2, base, null));
        return new VolumeInventory(
                Schema.VERSION,
                jobId,
                campaignId,
                pool,
                host,
                volume,
                scannedAt,
                "ext4",
                1L << 40,
                1L << 39,
                disks,
                List.of(),
                List.of(),
                0,
                null,
                null);
    }
}
