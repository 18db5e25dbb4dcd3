package io.chainmerge.cli;

import io.chainmerge.broker.BrokerMain;
import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.message.JobKind;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.DiskSpec;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.Chain;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.io.Sha256;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The soak: rounds of merge campaigns over a generated fleet, on the embedded system run as a fleet runs (a
 * broker, two coordinator replicas and two workers sharing two volumes, each a process of its own), while a
 * seeded chaos thread SIGKILLs workers, coordinators (the leader, mostly: a standby takes over) and the broker
 * (started again on its data, on the same ports), each started again after a short outage. After each round
 * every chain of the round is read back by content (SHA-256 of each MiB of the virtual disk, before against
 * after) and the round's files are removed; at the end the results topic tells how many merges ran twice (more
 * than one result that is not a redelivery for one job).
 *
 * <p>{@code bench/soak.sh --minutes N [--seed S]} runs it; {@code SoakIT} runs it for CI. The seed fixes the
 * fleet and the order and targets of the faults; when each fault lands follows the machine's pace.
 */
final class Soak {
    private static final MessageCodec CODEC = new MessageCodec(ChainmergeCommand.JSON);
    private static final long MIB = 1 << 20;
    private static final long VIRTUAL = 64 * MIB;
    private static final String POOL = "soak";
    private static final Duration ROUND_LIMIT = Duration.ofMinutes(4);

    enum Kind {
        WORKER,
        COORDINATOR,
        BROKER
    }

    record Options(Duration length, long seed, Path work, Path jar, PrintStream out) {}

    /** What the soak counts. {@link #ok()}: nothing lost, nothing run twice, no round left unfinished. */
    static final class Totals {
        int rounds;
        int chains;
        int chainsVerified;
        int merges;
        int mergesFailed;
        int mergesRefused;
        int republished;
        int roundsUnfinished;
        long bytesLost;
        int doubleRuns;
        int mergeJobs;
        int answeredByRedelivery;
        int unplannedExits;
        final Map<Kind, Integer> kills = Collections.synchronizedMap(new EnumMap<>(Kind.class));
        final List<String> problems = Collections.synchronizedList(new ArrayList<>());

        int kills(Kind kind) {
            return kills.getOrDefault(kind, 0);
        }

        int faults() {
            return kills.values().stream().mapToInt(Integer::intValue).sum();
        }

        boolean ok() {
            return bytesLost == 0 && doubleRuns == 0 && roundsUnfinished == 0 && chainsVerified == chains;
        }

        void print(PrintStream out, Options options, Duration took) {
            out.printf("%nsoak: %d s, seed %d, %s%n", took.toSeconds(), options.seed(), load());
            out.printf("| %-34s | %10s |%n", "figure", "value");
            out.printf("|%s|%s|%n", "-".repeat(36), "-".repeat(12));
            row(out, "rounds", rounds);
            row(out, "rounds unfinished (must be 0)", roundsUnfinished);
            row(out, "merges succeeded", merges);
            row(out, "merges failed", mergesFailed);
            row(out, "merges refused", mergesRefused);
            row(out, "jobs published again (stalled)", republished);
            row(out, "kills: workers (SIGKILL)", kills(Kind.WORKER));
            row(out, "kills: coordinators (SIGKILL)", kills(Kind.COORDINATOR));
            row(out, "kills: broker (SIGKILL, restart)", kills(Kind.BROKER));
            row(out, "faults injected", faults());
            row(out, "daemon exits not caused by a kill", unplannedExits);
            row(out, "chains verified", chainsVerified + " of " + chains);
            row(out, "bytes lost (must be 0)", bytesLost);
            row(out, "merge jobs with a result", mergeJobs);
            row(out, "  answered only by a redelivery", answeredByRedelivery);
            row(out, "jobs run twice (must be 0)", doubleRuns);
            for (String problem : problems) {
                out.println("problem: " + problem);
            }
            out.println(ok() ? "soak: OK" : "soak: FAILED");
            out.flush();
        }

        private static void row(PrintStream out, String name, Object value) {
            out.printf("| %-34s | %10s |%n", name, value);
        }
    }

    private final Options options;
    private final Random random;
    private final Totals totals = new Totals();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Path volume1;
    private final Path volume2;
    private final int brokerPort;
    private final int controllerPort;
    private final String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
    private final List<Daemon> workers = new ArrayList<>();
    private final List<Daemon> coordinators = new ArrayList<>();
    private Daemon broker;
    private final AtomicBoolean chaosOn = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();

    Soak(Options options) throws IOException {
        this.options = options;
        this.random = new Random(options.seed());
        this.volume1 = Files.createDirectories(options.work().resolve("vol1"));
        this.volume2 = Files.createDirectories(options.work().resolve("vol2"));
        this.brokerPort = freePort();
        this.controllerPort = freePort();
    }

    public static void main(String[] args) throws Exception {
        int minutes = 5;
        long seed = 18;
        Path work = null;
        Path jar = Path.of("cli/target/chainmerge.jar");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--minutes" -> minutes = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--jar" -> jar = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: Soak --minutes N [--seed S] [--work DIR] [--jar chainmerge.jar]");
                    System.exit(2);
                }
            }
        }
        if (minutes < 1) {
            System.err.println("--minutes must be at least 1");
            System.exit(2);
        }
        if (work == null) {
            work = Files.createTempDirectory("chainmerge-soak");
        }
        Totals totals = new Soak(new Options(Duration.ofMinutes(minutes), seed, work, jar, System.out)).run();
        System.exit(totals.ok() ? 0 : 1);
    }

    /** Runs the soak for its length, then stops every daemon it started; the totals say how it went. */
    Totals run() throws Exception {
        long started = System.nanoTime();
        PrintStream out = options.out();
        out.printf("soak: %s, seed %d, work in %s, %s%n", options.length(), options.seed(), options.work(), load());
        Thread chaos = new Thread(this::chaos, "soak-chaos");
        Thread supervisor = new Thread(this::supervise, "soak-supervisor");
        try {
            startFleet();
            supervisor.setDaemon(true);
            supervisor.start();
            chaosOn.set(true);
            chaos.setDaemon(true);
            chaos.start();
            long end = started + options.length().toNanos();
            while (System.nanoTime() < end && totals.roundsUnfinished == 0) {
                round(totals.rounds + 1);
            }
            chaosOn.set(false);
            chaos.join(TimeUnit.SECONDS.toMillis(30));
            countDoubleRuns();
        } finally {
            chaosOn.set(false);
            stopping.set(true);
            stopFleet();
        }
        totals.print(out, options, Duration.ofNanos(System.nanoTime() - started));
        return totals;
    }

    // ---------------------------------------------------------------- the fleet

    /** A daemon as a child process, started again (on the same settings, data and ports) after each kill. */
    private final class Daemon {
        final String name;
        final List<String> command;
        final int port;
        volatile Process process;
        volatile boolean down;
        int starts;

        Daemon(String name, List<String> command, int port) {
            this.name = name;
            this.command = command;
            this.port = port;
        }

        synchronized void start() throws IOException {
            starts++;
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(
                            options.work().resolve(name + ".log").toFile()))
                    .start();
            down = false;
        }

        /** SIGKILL: no goodbye to the group, no flush, transactions left open. */
        synchronized void kill() throws InterruptedException {
            down = true;
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        void stop() {
            down = true;
            Process p = process;
            if (p == null) {
                return;
            }
            p.destroy();
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }

    private void startFleet() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        broker = new Daemon(
                "broker",
                List.of(
                        java.toString(),
                        "-Xmx384m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        BrokerMain.class.getName(),
                        options.work().resolve("kafka").toString(),
                        "1",
                        clusterId,
                        String.valueOf(brokerPort),
                        String.valueOf(controllerPort),
                        "1@127.0.0.1:" + controllerPort),
                brokerPort);
        broker.start();
        awaitBroker();
        for (String name : List.of("a", "b")) {
            int port = freePort();
            Map<String, Object> settings = new HashMap<>();
            settings.put("http.host", "127.0.0.1");
            settings.put("http.port", port);
            settings.put("coordinator.id", name);
            settings.put("coordinator.group", "soak");
            settings.put("leader.session-timeout", "3s");
            settings.put("topics.partitions", 3);
            settings.put("topics.replication", 1);
            settings.put("tick", "200ms");
            settings.put("job.stall-timeout", "30s");
            settings.put("job.max-attempts", 5);
            settings.put("security.principals-file", TestPrincipals.file().toString());
            settings.put("kafka.bootstrap.servers", bootstrap());
            Daemon coordinator = new Daemon("coordinator-" + name, daemon(java, "coordinator", name, settings), port);
            coordinators.add(coordinator);
            coordinator.start();
            // The first to start leads; the second stands by.
            awaitUntil(Duration.ofSeconds(90), () -> !role(coordinator).equals("down"), "coordinator " + name);
        }
        for (String name : List.of("w1", "w2")) {
            int port = freePort();
            Map<String, Object> settings = new HashMap<>();
            settings.put("pool", POOL);
            settings.put("worker.id", name);
            settings.put("volumes", List.of(volume1.toString(), volume2.toString()));
            settings.put("reserve", "0");
            settings.put("http.host", "127.0.0.1");
            settings.put("http.port", port);
            settings.put("topics.partitions", 3);
            settings.put("in-use.quiet", "0s");
            // Both workers run on this one host over the same volumes: each would see the other's open files.
            settings.put("in-use.probes", List.of());
            settings.put("security.mode", "insecure");
            settings.put("kafka.session.timeout.ms", "6000");
            settings.put("kafka.heartbeat.interval.ms", "1000");
            settings.put("kafka.bootstrap.servers", bootstrap());
            Daemon worker = new Daemon("worker-" + name, daemon(java, "worker", name, settings), port);
            workers.add(worker);
            worker.start();
        }
        for (Daemon worker : workers) {
            awaitUntil(Duration.ofSeconds(90), () -> status(worker, "/ready") == 200, worker.name + " ready");
        }
    }

    private List<String> daemon(Path java, String command, String name, Map<String, Object> settings)
            throws IOException {
        Path config = options.work().resolve(command + "-" + name + ".yaml");
        Files.writeString(config, CODEC.json().yaml().writeValueAsString(settings));
        return List.of(
                java.toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-jar",
                options.jar().toAbsolutePath().toString(),
                command,
                "--config",
                config.toString());
    }

    private void stopFleet() {
        for (Daemon daemon :
                Stream.concat(workers.stream(), coordinators.stream()).toList()) {
            daemon.stop();
        }
        if (broker != null) {
            broker.stop();
        }
    }

    private String bootstrap() {
        return "127.0.0.1:" + brokerPort;
    }

    private void awaitBroker() throws Exception {
        awaitUntil(
                Duration.ofSeconds(90),
                () -> {
                    try (java.net.Socket socket = new java.net.Socket()) {
                        socket.connect(new java.net.InetSocketAddress("127.0.0.1", brokerPort), 500);
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                },
                "the broker");
    }

    /** Starts again whatever died without being killed here (a daemon that gave up, e.g. fenced): counted. */
    private void supervise() {
        while (!stopping.get()) {
            for (Daemon daemon : all()) {
                synchronized (daemon) {
                    if (!daemon.down && !daemon.process.isAlive() && !stopping.get()) {
                        totals.unplannedExits++;
                        options.out()
                                .printf(
                                        "  %s exited by itself (%d); started again%n",
                                        daemon.name, daemon.process.exitValue());
                        try {
                            daemon.start();
                        } catch (IOException e) {
                            totals.problems.add("could not start " + daemon.name + " again: " + e);
                        }
                    }
                }
            }
            sleep(500);
        }
    }

    private List<Daemon> all() {
        List<Daemon> all = new ArrayList<>(workers);
        all.addAll(coordinators);
        all.add(broker);
        return all;
    }

    // ---------------------------------------------------------------- the faults

    /**
     * One kill at a time: the first three one of each kind in a seeded order, then workers half the time,
     * coordinators (the leader two times in three) and the broker a quarter each. The daemon stays down 0.5 to 3 s
     * (the broker 1 to 4 s), then starts again on what it had; once it is back (ready, or answering), the next kill
     * comes 3 to 8 s later. Kills faster than the fleet comes back would measure only restarts, never the work.
     */
    private void chaos() {
        Random faults = new Random(random.nextLong());
        List<Kind> first = new ArrayList<>(List.of(Kind.values()));
        Collections.shuffle(first, faults);
        int n = 0;
        while (chaosOn.get()) {
            sleep(3000 + faults.nextInt(5000));
            if (!chaosOn.get()) {
                return;
            }
            Kind kind = n < first.size()
                    ? first.get(n)
                    : switch (faults.nextInt(4)) {
                        case 0, 1 -> Kind.WORKER;
                        case 2 -> Kind.COORDINATOR;
                        default -> Kind.BROKER;
                    };
            n++;
            Daemon target =
                    switch (kind) {
                        case WORKER -> workers.get(faults.nextInt(workers.size()));
                        case COORDINATOR -> faults.nextInt(3) < 2 ? leader() : coordinators.get(faults.nextInt(2));
                        case BROKER -> broker;
                    };
            long outage = kind == Kind.BROKER ? 1000 + faults.nextInt(3000) : 500 + faults.nextInt(2500);
            try {
                target.kill();
                totals.kills.merge(kind, 1, Integer::sum);
                options.out()
                        .printf(
                                "  kill %s (%s), down %d ms%n",
                                target.name, kind.name().toLowerCase(), outage);
                sleep(outage);
                target.start();
                awaitBack(target);
            } catch (Exception e) {
                totals.problems.add("fault on " + target.name + ": " + e);
            }
        }
    }

    /** Until the daemon answers again (at most a minute: a slow start is the fleet's to show, not a stall here). */
    private void awaitBack(Daemon daemon) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (chaosOn.get() && System.nanoTime() < deadline && !isBack(daemon)) {
            sleep(250);
        }
    }

    private boolean isBack(Daemon daemon) {
        if (daemon == broker) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", brokerPort), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        if (coordinators.contains(daemon)) {
            return !role(daemon).equals("down");
        }
        return status(daemon, "/ready") == 200;
    }

    private Daemon leader() {
        return coordinators.stream()
                .filter(c -> role(c).equals("leader"))
                .findFirst()
                .orElse(coordinators.get(0));
    }

    // ---------------------------------------------------------------- a round

    /** A chain as the round made it: its files top first, and what it read (SHA-256 of each MiB). */
    private record Made(String name, List<Path> topFirst, List<String> blocks) {}

    private void round(int number) throws Exception {
        long t0 = System.nanoTime();
        Random fleet = new Random(random.nextLong());
        List<Made> made = new ArrayList<>();
        int chains = 3 + fleet.nextInt(3);
        for (int c = 0; c < chains; c++) {
            Path volume = fleet.nextBoolean() ? volume1 : volume2;
            String name = "r" + number + "c" + c;
            int depth = 1 + fleet.nextInt(3);
            List<Path> files = new ArrayList<>();
            Path root = volume.resolve(name + ".vhdx");
            try (VirtualDisk disk =
                    DiskFiles.create(root, DiskSpec.dynamic(VIRTUAL).withBlockSize((int) MIB))) {
                fill(disk, fleet, 2 + fleet.nextInt(6));
            }
            files.add(0, root);
            Path parent = root;
            for (int level = 1; level <= depth; level++) {
                Path child = volume.resolve(name + "_" + level + ".avhdx");
                try (VirtualDisk p = DiskFiles.open(parent, Access.READ);
                        VirtualDisk disk = DiskFiles.createDifferencing(child, p)) {
                    fill(disk, fleet, 2 + fleet.nextInt(8));
                }
                files.add(0, child);
                parent = child;
            }
            made.add(new Made(name, files, blocks(files.get(0))));
        }
        totals.chains += made.size();

        String id = submit("soak-round-" + number);
        CampaignReport report = awaitFinished(id);
        totals.rounds++;
        int lostBefore = (int) (totals.bytesLost / MIB);
        int verified = 0;
        for (Made chain : made) {
            long lost = lost(chain);
            totals.bytesLost += lost;
            if (lost == 0) {
                verified++;
            } else {
                totals.problems.add("round %d: %s lost %d bytes".formatted(number, chain.name(), lost));
            }
        }
        totals.chainsVerified += verified;
        if (report == null) {
            totals.roundsUnfinished++;
            totals.problems.add("round " + number + ": campaign " + id + " did not finish within " + ROUND_LIMIT);
        } else {
            totals.merges += report.totals().merged();
            totals.mergesFailed += report.totals().failed();
            totals.mergesRefused += report.totals().refused();
            totals.republished += report.totals().republished();
            report.jobs().stream()
                    .filter(j -> j.outcome() != null && j.outcome() != io.chainmerge.common.message.Outcome.SUCCEEDED)
                    .forEach(j -> options.out()
                            .printf(
                                    "  round %d: %s %s %s: %s%n",
                                    number, j.kind(), j.child(), j.reason(), j.message()));
        }
        options.out()
                .printf(
                        "round %d: %d chains, %s merged, %d verified, %d MiB lost, %.1f s%n",
                        number,
                        made.size(),
                        report == null ? "?" : String.valueOf(report.totals().merged()),
                        verified,
                        totals.bytesLost / MIB - lostBefore,
                        (System.nanoTime() - t0) / 1e9);
        if (report != null) {
            for (Made chain : made) {
                for (Path file : chain.topFirst()) {
                    Files.deleteIfExists(file); // what stays of the round would only grow the next scans
                }
            }
        }
    }

    /** Writes {@code mebibytes} of random data in 1 MiB runs at random places. */
    private static void fill(VirtualDisk disk, Random random, int mebibytes) throws IOException {
        byte[] data = new byte[(int) MIB];
        for (int i = 0; i < mebibytes; i++) {
            random.nextBytes(data);
            long at = (long) random.nextInt((int) (VIRTUAL / 512) - 2048) * 512;
            disk.write(at, ByteBuffer.wrap(data));
        }
        disk.commit();
    }

    /** SHA-256 of each MiB of what the chain topped by {@code top} reads, as a VM would see it. */
    private static List<String> blocks(Path top) throws IOException {
        List<String> blocks = new ArrayList<>();
        try (Chain chain = Chain.open(top, Access.READ)) {
            ChainReader reader = new ChainReader(chain);
            ByteBuffer buffer = ByteBuffer.allocate((int) MIB);
            for (long at = 0; at < reader.virtualSize(); at += MIB) {
                buffer.clear().limit((int) Math.min(MIB, reader.virtualSize() - at));
                reader.read(at, buffer);
                MessageDigest sha = Sha256.newDigest();
                sha.update(buffer.flip());
                blocks.add(HexFormat.of().formatHex(sha.digest()));
            }
        }
        return blocks;
    }

    /**
     * Bytes of the chain that no longer read as before: read through the newest of its files still there (the
     * root once merged, the old top if a merge did not happen); a chain that cannot be read at all lost all.
     */
    private long lost(Made chain) {
        Path top = chain.topFirst().stream().filter(Files::exists).findFirst().orElse(null);
        if (top == null) {
            return VIRTUAL;
        }
        try {
            List<String> now = blocks(top);
            long lost = 0;
            for (int i = 0; i < chain.blocks().size(); i++) {
                if (i >= now.size() || !now.get(i).equals(chain.blocks().get(i))) {
                    lost += MIB;
                }
            }
            return lost;
        } catch (IOException e) {
            totals.problems.add(chain.name() + " cannot be read through " + top + ": " + e);
            return VIRTUAL;
        }
    }

    // ---------------------------------------------------------------- the coordinators' API

    private CampaignClient client() {
        String urls = String.join(
                ",",
                coordinators.stream().map(c -> "http://127.0.0.1:" + c.port).toList());
        return new CampaignClient(urls, ChainmergeCommand.JSON, TestPrincipals.ADMIN_TOKEN);
    }

    /**
     * Submits the round's campaign, through whichever replica answers; a submit whose answer was lost (a
     * coordinator or the broker killed under it) is found by its name rather than submitted twice.
     */
    private String submit(String name) throws Exception {
        String spec =
                """
                name: %s
                pools: [%s]
                action: merge-to-root
                rate: 8MiB/s
                """
                        .formatted(name, POOL);
        long deadline = System.nanoTime() + ROUND_LIMIT.toNanos();
        boolean sent = false;
        while (System.nanoTime() < deadline) {
            try {
                if (sent) {
                    for (CampaignReport report : client().list(List.of())) {
                        if (name.equals(report.name())) {
                            return report.campaignId();
                        }
                    }
                }
                sent = true;
                return client().submit(spec);
            } catch (IOException | RuntimeException e) {
                sleep(1000);
            }
        }
        throw new IllegalStateException("no coordinator took the campaign " + name + " within " + ROUND_LIMIT);
    }

    private CampaignReport awaitFinished(String id) {
        long deadline = System.nanoTime() + ROUND_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                CampaignReport report = client().show(id);
                if (report.state() == CampaignState.FINISHED) {
                    return report;
                }
            } catch (Exception e) {
                // a coordinator killed, or the broker: ask again
            }
            sleep(1000);
        }
        return null;
    }

    private void countDoubleRuns() {
        Map<String, Integer> firstRuns = new LinkedHashMap<>();
        try (TopicProbe probe = new TopicProbe(bootstrap())) {
            for (var record : probe.committed(List.of(new Topics("chainmerge").results()))) {
                JobResult result = CODEC.read(record.value(), JobResult.class);
                if (result.kind() == JobKind.MERGE) {
                    // A run's own result says redelivered: false; a delivery that found the job done in the journal
                    // answers with that result, redelivered: true. Two of the first kind: the job ran twice.
                    firstRuns.merge(result.jobId(), result.redelivered() ? 0 : 1, Integer::sum);
                }
            }
        } catch (Exception e) {
            totals.problems.add("could not read the results topic: " + e);
            totals.doubleRuns = -1;
            return;
        }
        totals.mergeJobs = firstRuns.size();
        // A worker killed between its journal's DONE and the result reaching the broker: the redelivery answers.
        totals.answeredByRedelivery =
                (int) firstRuns.values().stream().filter(runs -> runs == 0).count();
        firstRuns.forEach((job, runs) -> {
            if (runs > 1) {
                totals.doubleRuns++;
                totals.problems.add("job " + job + " ran " + runs + " times");
            }
        });
    }

    private String role(Daemon coordinator) {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.port + "/ready"))
                            .timeout(Duration.ofSeconds(3))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return CODEC.json().mapper().readTree(response.body()).path("role").asText("down");
        } catch (Exception e) {
            return "down";
        }
    }

    private int status(Daemon daemon, String path) {
        try {
            return http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.port + path))
                                    .timeout(Duration.ofSeconds(3))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitUntil(Duration limit, Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " did not come up within " + limit);
            }
            sleep(250);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String load() {
        try {
            return "load average " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0] + " on "
                    + Runtime.getRuntime().availableProcessors() + " cores";
        } catch (IOException e) {
            return "load unknown";
        }
    }
}
