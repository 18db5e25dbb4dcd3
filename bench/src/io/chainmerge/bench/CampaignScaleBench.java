package io.chainmerge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.campaign.CampaignEvent;
import io.chainmerge.common.campaign.CampaignJob;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.CampaignStateChanged;
import io.chainmerge.common.campaign.CampaignSubmitted;
import io.chainmerge.common.campaign.JobStatus;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * How the coordinator scales with the size of a campaign, on one broker in one run: for each size, a
 * campaign of that many dry-run merges over several workers against the same merges called directly (the
 * engine alone, measured just before on the same chains), with the coordinator's CPU time per result and its
 * heap after; then a cold restart over a large history of finished jobs; then a standby taking over from a
 * killed leader. The coordinator runs in a JVM of its own ({@link CoordinatorProcess}), so its CPU time and
 * heap are its own. Prints Markdown.
 *
 * <p>Args: bootstrap, out folder, classpath for the coordinator's JVM, sizes (comma separated), workers,
 * history jobs (0: skip), takeover jobs (0: skip), minutes a campaign may take before it is reported cut short.
 */
public final class CampaignScaleBench {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());
    private static final Topics TOPICS = new Topics("chainmerge");

    private final String bootstrap;
    private final Path out;
    private final String classpath;
    private final KafkaClients clients;
    private final HttpClient http = HttpClient.newHttpClient();
    private int coordinators;

    private CampaignScaleBench(String bootstrap, Path out, String classpath) {
        this.bootstrap = bootstrap;
        this.out = out;
        this.classpath = classpath;
        this.clients = new KafkaClients(Map.of("bootstrap.servers", bootstrap));
    }

    public static void main(String[] args) throws Exception {
        CampaignScaleBench bench = new CampaignScaleBench(args[0], Path.of(args[1]), args[2]);
        List<Integer> sizes = java.util.Arrays.stream(args[3].split(","))
                .map(Integer::parseInt)
                .filter(size -> size > 0) // 0: no campaign sizes, only the restart and the takeover
                .toList();
        int workers = Integer.parseInt(args[4]);
        int history = Integer.parseInt(args[5]);
        int takeover = Integer.parseInt(args[6]);
        Duration cap = Duration.ofMinutes(Long.parseLong(args[7]));
        System.out.printf("## Campaign scale benchmark (%s, %d cores, broker %s)%n%n", Instant.now(),
                Runtime.getRuntime().availableProcessors(), args[0]);
        System.out.println("| jobs | workers | engine alone s | engine jobs/s | campaign s | campaign jobs/s | ratio to the engine"
                + " | coordinator CPU ms per result | coordinator heap after, MiB |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        Child coordinator = bench.startCoordinator("scale", "-Xmx1g");
        coordinator.await("LEADS", Duration.ofMinutes(5));
        try {
            for (int size : sizes) {
                bench.size(coordinator, size, workers, cap);
            }
        } finally {
            coordinator.stop();
        }
        if (history > 0) {
            bench.coldRestart(history);
        }
        if (takeover > 0) {
            bench.takeover(takeover, workers);
        }
        System.exit(0);
    }

    // ---- one size: the engine alone, then the campaign ----

    private void size(Child coordinator, int jobs, int workers, Duration cap) throws Exception {
        Path template = template();
        List<String> pools = new ArrayList<>();
        List<Path> chains = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            String pool = "s" + jobs + "-" + w;
            pools.add(pool);
            Path volume = Files.createDirectories(out.resolve("s" + jobs + "/" + pool));
            List<Path> mine = new ArrayList<>();
            for (int i = w; i < jobs; i += workers) {
                mine.add(volume.resolve("chain-" + i));
            }
            KafkaBench.copy(template, mine);
            chains.addAll(mine);
        }
        double engineSeconds = engineOnly(chains);
        List<Worker> running = startWorkers(pools, jobs);
        try {
            long[] before = coordinator.stats();
            Result result = campaign(coordinator, pools, jobs, cap);
            long[] after = coordinator.stats();
            double cpuPerResult = (after[0] - before[0]) / 1e6 / Math.max(1, result.merged);
            double rate = result.merged / result.seconds;
            double engineRate = jobs / engineSeconds;
            System.out.printf(Locale.ROOT, "| %d%s | %d | %.1f | %.0f | %.1f | %.0f | %.3f | %.2f | %.0f |%n",
                    jobs, result.merged == jobs ? "" : " (cut short after " + cap.toMinutes() + " min: " + result.merged + " merged)",
                    workers, engineSeconds, engineRate, result.seconds, rate, rate / engineRate, cpuPerResult, after[1] / 1048576.0);
        } finally {
            running.forEach(Worker::close);
        }
    }

    private List<Worker> startWorkers(List<String> pools, int jobs) throws Exception {
        List<Worker> running = new ArrayList<>();
        for (String pool : pools) {
            Path volume = out.resolve("s" + pool.substring(1, pool.indexOf('-')) + "/" + pool);
            running.add(Worker.start(WorkerConfig.of(Map.of(
                    "pool", pool,
                    "worker.id", pool,
                    "volumes", List.of(volume.toString()),
                    "concurrency.per-volume", 2,
                    "http.host", "127.0.0.1",
                    "http.port", 0,
                    "topics.partitions", 3,
                    "in-use.quiet", "0s",
                    "security.mode", "insecure", // no transfers: the bench measures the coordinator
                    "kafka.bootstrap.servers", bootstrap))));
        }
        return running;
    }

    private record Result(double seconds, int merged) {}

    private Result campaign(Child coordinator, List<String> pools, int jobs, Duration cap) throws Exception {
        String api = "http://127.0.0.1:" + coordinator.port;
        String spec = "{\"name\":\"scale-" + jobs + "\",\"pools\":" + CODEC.json().write(pools)
                + ",\"dryRun\":true,\"limits\":{\"perVolume\":2},\"scanTimeout\":\"20m\"}";
        long started = System.nanoTime();
        String body = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/campaigns")).POST(HttpRequest.BodyPublishers.ofString(spec)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String id = CODEC.json().mapper().readTree(body).get("campaignId").asText();
        long deadline = started + cap.toNanos();
        while (true) {
            Thread.sleep(1000);
            // The listing's summary, not the whole report: polling must not cost the coordinator a view of every job.
            JsonNode page = CODEC.json().mapper().readTree(http.send(
                    HttpRequest.newBuilder(URI.create(api + "/v1/campaigns?limit=1000")).build(), HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode item : page.get("items")) {
                if (!item.get("campaignId").asText().equals(id)) {
                    continue;
                }
                int merged = item.get("totals").get("merged").asInt();
                boolean finished = item.get("state").asText().equals("finished");
                if (finished || System.nanoTime() > deadline) {
                    double seconds = (System.nanoTime() - started) / 1e9;
                    if (finished && merged != jobs) {
                        throw new IllegalStateException("the campaign ran " + merged + " of " + jobs + " jobs: " + item.get("totals"));
                    }
                    if (!finished) {
                        http.send(HttpRequest.newBuilder(URI.create(api + "/v1/campaigns/" + id + "/cancel"))
                                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                    }
                    return new Result(seconds, merged);
                }
            }
        }
    }

    /** The same dry-run merges called in this JVM, one thread per core: the engine alone. */
    private static double engineOnly(List<Path> chains) throws Exception {
        var threads = java.util.concurrent.Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        try {
            long started = System.nanoTime();
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (Path chain : chains) {
                done.add(threads.submit(() -> io.chainmerge.disk.merge.Merge.run(
                        io.chainmerge.disk.merge.MergeRequest.of(chain.resolve("vm_1.avhdx")).withDryRun(true),
                        io.chainmerge.disk.merge.MergeProgress.NONE)));
            }
            for (var f : done) {
                f.get();
            }
            return (System.nanoTime() - started) / 1e9;
        } finally {
            threads.shutdown();
        }
    }

    // ---- a cold restart over a large history ----

    private void coldRestart(int history) throws Exception {
        long written = System.nanoTime();
        CampaignSpec spec = CODEC.json().mapper().readValue(
                "{\"name\":\"history\",\"pools\":[\"h-0\"],\"dryRun\":true}", CampaignSpec.class);
        int perCampaign = 1000;
        Instant now = Instant.now();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(clients.producer("bench-history"))) {
            for (int c = 0; c * perCampaign < history; c++) {
                String id = String.format(Locale.ROOT, "c-history-%06d", c);
                send(producer, new CampaignSubmitted(Schema.VERSION, id, null, now, spec));
                for (int j = 0; j < perCampaign && c * perCampaign + j < history; j++) {
                    MergeJob job = new MergeJob(Schema.VERSION, id + "-m-" + j, id, "h-0", now, "/v/chain-" + j, "/v/chain-" + j + "/vm_1.avhdx",
                            "/v/chain-" + j + "/vm.vhdx", null, null, true, 0, new ReserveSpec(0, 0), null);
                    send(producer, CampaignJob.planned(id, job, "h-0", "/v", now)
                            .with(JobStatus.FINISHED, JobResult.succeeded(job, "h-0", now, Duration.ofMillis(5)), now));
                }
                send(producer, new CampaignStateChanged(Schema.VERSION, id, null, now, CampaignState.FINISHED, false, "every job has a result"));
            }
            producer.flush();
        }
        double writeSeconds = (System.nanoTime() - written) / 1e9;
        Child restarted = startCoordinator("restart", "-Xmx2g");
        try {
            long port = restarted.startMillis;
            long leads = restarted.await("LEADS", Duration.ofMinutes(30));
            long[] stats = restarted.stats();
            System.out.println();
            System.out.println("| cold restart | finished jobs of history | seconds to write them | seconds to serve HTTP | seconds to lead | heap after, MiB |");
            System.out.println("|---|---|---|---|---|---|");
            System.out.printf(Locale.ROOT, "| coordinator JVM started, -Xmx2g | %d (+ the jobs above) | %.1f | %.1f | %.1f | %.0f |%n",
                    history, writeSeconds, port / 1000.0, leads / 1000.0, stats[1] / 1048576.0);
        } finally {
            restarted.stop();
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, CampaignEvent event) {
        producer.send(new ProducerRecord<>(TOPICS.campaigns(), event.key(), CODEC.write(event)));
    }

    // ---- a standby taking over ----

    private void takeover(int jobs, int workers) throws Exception {
        List<String> pools = new ArrayList<>();
        Path template = template();
        for (int w = 0; w < workers; w++) {
            String pool = "t" + jobs + "-" + w;
            pools.add(pool);
            Path volume = Files.createDirectories(out.resolve("s" + jobs + "/" + pool));
            List<Path> mine = new ArrayList<>();
            for (int i = w; i < jobs; i += workers) {
                mine.add(volume.resolve("chain-" + i));
            }
            KafkaBench.copy(template, mine);
        }
        Child leader = startCoordinator("takeover-a", "-Xmx1g");
        leader.await("LEADS", Duration.ofMinutes(30));
        Child standby = startCoordinator("takeover-b", "-Xmx1g"); // up: its HTTP port is open
        List<Worker> running = startWorkers(pools, jobs);
        try (KafkaConsumer<String, byte[]> published = new KafkaConsumer<>(clients.consumer("bench-takeover", null))) {
            String api = "http://127.0.0.1:" + leader.port;
            String spec = "{\"name\":\"takeover\",\"pools\":" + CODEC.json().write(pools)
                    + ",\"dryRun\":true,\"limits\":{\"perVolume\":2},\"scanTimeout\":\"20m\"}";
            http.send(HttpRequest.newBuilder(URI.create(api + "/v1/campaigns")).POST(HttpRequest.BodyPublishers.ofString(spec)).build(),
                    HttpResponse.BodyHandlers.ofString());
            List<TopicPartition> partitions = new ArrayList<>();
            for (String pool : pools) {
                // The leader creates a pool's job topic when its space check is first published.
                long until = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                List<TopicPartition> of = partitions(published, TOPICS.jobs(pool));
                while (of.isEmpty() && System.nanoTime() < until) {
                    Thread.sleep(500);
                    of = partitions(published, TOPICS.jobs(pool));
                }
                partitions.addAll(of);
            }
            published.assign(partitions);
            published.seekToBeginning(partitions);
            // Wait until merges flow, then kill the leader with SIGKILL.
            int merges = 0;
            long until = System.nanoTime() + Duration.ofMinutes(20).toNanos();
            while (merges < Math.min(200, jobs / 4) && System.nanoTime() < until) {
                for (ConsumerRecord<String, byte[]> record : published.poll(Duration.ofMillis(200))) {
                    merges += record.key().contains("-scan-") ? 0 : 1;
                }
            }
            long killed = System.currentTimeMillis();
            leader.kill();
            long next = -1;
            long deadline = killed + 120_000;
            while (next < 0 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> record : published.poll(Duration.ofMillis(100))) {
                    if (record.timestamp() > killed) {
                        next = record.timestamp();
                        break;
                    }
                }
            }
            System.out.println();
            System.out.println("| standby takeover | jobs in the campaign | merges published before the kill | seconds from SIGKILL to the next job published |");
            System.out.println("|---|---|---|---|");
            System.out.printf(Locale.ROOT, "| two coordinators, leader killed | %d | %d | %s |%n", jobs, merges,
                    next < 0 ? "none within 120 s" : String.format(Locale.ROOT, "%.1f", (next - killed) / 1000.0));
        } finally {
            running.forEach(Worker::close);
            standby.stop();
        }
    }

    private Path template;

    /** The tiny chain every job merges (KafkaBench's), made once. */
    private Path template() throws Exception {
        if (template == null) {
            template = KafkaBench.template(out.resolve("template"));
        }
        return template;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        for (PartitionInfo info : infos == null ? List.<PartitionInfo>of() : infos) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        return partitions;
    }

    // ---- the coordinator's JVM ----

    private Child startCoordinator(String id, String heap) throws Exception {
        Path log = out.resolve("coordinator-" + id + "-" + (++coordinators) + ".log");
        Process process = new ProcessBuilder("java", heap, "-XX:+UseSerialGC", "-cp", classpath,
                        "io.chainmerge.bench.CoordinatorProcess", bootstrap, id)
                .redirectError(log.toFile())
                .start();
        Child child = new Child(process);
        child.startMillis = child.await("PORT", Duration.ofMinutes(30));
        return child;
    }

    /** A coordinator JVM: the lines it prints for the bench, and its standard input to ask for statistics. */
    private static final class Child {
        private final Process process;
        private final PrintWriter in;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        int port;
        /** Milliseconds from the JVM's start to its HTTP port open (its replay of the state topic done). */
        long startMillis;

        Child(Process process) {
            this.process = process;
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        if (line.startsWith("PORT ") || line.startsWith("LEADS ") || line.startsWith("STATS ")) {
                            lines.add(line);
                        }
                    }
                } catch (Exception e) {
                    // the process ended
                }
            }, "coordinator-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** The first number of the next line starting with {@code word}; PORT gives the port, LEADS ms since start. */
        long await(String word, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line != null && line.startsWith(word + " ")) {
                    String[] parts = line.split(" ");
                    if (word.equals("PORT")) {
                        port = Integer.parseInt(parts[1]);
                        return Long.parseLong(parts[2]);
                    }
                    return Long.parseLong(parts[1]);
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("the coordinator ended with " + process.exitValue());
                }
            }
            throw new IllegalStateException("no " + word + " from the coordinator in " + timeout);
        }

        /** Process CPU ns and heap bytes used after a full GC. */
        long[] stats() throws Exception {
            in.println("stats");
            String line;
            do {
                line = lines.poll(120, TimeUnit.SECONDS);
                if (line == null) {
                    throw new IllegalStateException("no statistics from the coordinator");
                }
            } while (!line.startsWith("STATS "));
            String[] parts = line.split(" ");
            return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
        }

        void kill() throws Exception {
            process.destroyForcibly().waitFor();
        }

        void stop() throws Exception {
            in.println("exit");
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
