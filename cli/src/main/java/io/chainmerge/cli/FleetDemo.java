package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.common.topic.Topics;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.coordinator.Role;
import io.chainmerge.coordinator.Tokens;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code chainmerge demo}: the whole system on one machine. A broker in its own process (Kafka's
 * jars, KRaft, one node), two coordinator replicas (one leads, one stands by) and two workers in this one,
 * a fleet on temporary volumes, and a campaign over both pools followed live; the leading coordinator
 * stops after the first merge, as in a rolling update, and the standby finishes the campaign.
 */
final class FleetDemo {
    static final String SPEC =
            """
            name: demo-cleanup
            pools: [pool-a, pool-b]
            select:
              glob: "*.avhdx"
            action: merge-to-root
            limits:
              perVolume: 1
            rate: 48MiB/s
            reserve: 64MiB
            """;

    private final PrintWriter out;
    /** Where the campaign's live progress goes: the terminal, or standard error under --json. */
    private final PrintStream live;

    private final Path work;

    /**
     * Null, or the system stays up for the dashboard after the campaign until interrupted, and the
     * interruption waits for this latch: the demo over, its folder removed.
     */
    private final CountDownLatch served;

    FleetDemo(PrintWriter out, PrintStream live, Path work) {
        this(out, live, work, null);
    }

    FleetDemo(PrintWriter out, PrintStream live, Path work, CountDownLatch served) {
        this.out = out;
        this.live = live;
        this.work = work;
        this.served = served;
    }

    DemoCommand.Outcome run() throws Exception {
        long started = System.nanoTime();
        DaemonLogging.quiet();
        out.println("chainmerge demo in " + work);
        Path a1 = Files.createDirectories(work.resolve("storage-a/vol1"));
        Path a2 = Files.createDirectories(work.resolve("storage-a/vol2"));
        Path b1 = Files.createDirectories(work.resolve("storage-b/vol1"));
        out.println("fleet:");
        DemoFleet fleet = new DemoFleet();
        fleet.build(a1, a2, b1, out);
        out.flush();

        // Secure as anywhere else: a principals file and an operator's token of the demo's own.
        Path principals = work.resolve("principals.yaml");
        Path tokenFile = work.resolve("operator.token");
        String token = Tokens.newToken();
        Files.writeString(tokenFile, token + "\n");
        Tokens.addPrincipal(
                principals,
                "demo-operator",
                List.of(Role.OPERATOR),
                null,
                Tokens.sha256Hex(token),
                ChainmergeCommand.JSON);
        out.println("principals: " + principals + " (demo-operator, token in " + tokenFile + ")");

        // Secure as a fleet, with throwaway material: a CA, a certificate per daemon, the capability keys.
        ThrowawayPki pki = ThrowawayPki.create(work.resolve("pki"));
        ThrowawayPki.CapabilityKeys capabilities = pki.capabilityKeys("coordinator");
        out.println("security: TLS with a throwaway CA (" + pki.caBundle() + "), signed transfer capabilities");
        out.print("broker: starting a single-node Kafka (KRaft) in its own process... ");
        out.flush();
        DemoCommand.Api api = null;
        String superPassword = secret();
        try (BrokerProcess broker = BrokerProcess.startWithAcls(
                work.resolve("kafka"), work.resolve("kafka.log"), SUPER_USER, superPassword)) {
            out.println(broker.bootstrapServers());
            String bootstrap = broker.bootstrapServers();
            // Each daemon its own Kafka identity, allowed only what its role needs (docs/security.md).
            Map<String, String> coordinatorKafka;
            Map<String, String> storageAKafka;
            Map<String, String> storageBKafka;
            Topics topics = new Topics("chainmerge");
            Map<String, Object> admin =
                    new java.util.HashMap<>(KafkaClients.scramSha512("SASL_PLAINTEXT", SUPER_USER, superPassword));
            admin.put("bootstrap.servers", bootstrap);
            try (Admin setup = Admin.create(admin)) {
                coordinatorKafka =
                        identity(setup, "chainmerge-coordinator", new KafkaRole.Coordinator(topics, "coordinator"));
                storageAKafka = identity(setup, "storage-a", new KafkaRole.Worker(topics, "pool-a"));
                storageBKafka = identity(setup, "storage-b", new KafkaRole.Worker(topics, "pool-b"));
            }
            out.println("kafka: SASL/SCRAM and ACLs; the coordinators are User:chainmerge-coordinator, the workers"
                    + " User:storage-a and User:storage-b, each allowed only what its role needs"
                    + " (chainmerge kafka acls --role worker --pool pool-a --principal User:storage-a)");
            try (Coordinator coordinator = Coordinator.start(
                            coordinator("coordinator-1", bootstrap, coordinatorKafka, principals, pki, capabilities));
                    Coordinator standby = Coordinator.start(
                            coordinator("coordinator-2", bootstrap, coordinatorKafka, principals, pki, capabilities));
                    Worker workerA = Worker.start(worker(
                            "pool-a", "storage-a", List.of(a1, a2), bootstrap, storageAKafka, pki, capabilities));
                    Worker workerB = Worker.start(
                            worker("pool-b", "storage-b", List.of(b1), bootstrap, storageBKafka, pki, capabilities))) {
                String url = "https://127.0.0.1:" + coordinator.httpPort();
                String standbyUrl = "https://127.0.0.1:" + standby.httpPort();
                api = new DemoCommand.Api(
                        standbyUrl,
                        tokenFile,
                        "curl --cacert " + pki.caBundle() + " -H \"Authorization: Bearer $(cat " + tokenFile + ")\" "
                                + standbyUrl + "/v1/campaigns");
                out.printf(
                        "coordinators (group coordinator): coordinator-1 leads at %s, coordinator-2 stands by at %s%n"
                                + "workers: storage-a (pool-a: vol1, vol2) https %d, storage-b (pool-b: vol1) https %d%n",
                        url, standbyUrl, workerA.httpPort(), workerB.httpPort());
                out.println("call its API while the demo runs: " + api.example());
                out.printf(
                        "or: chainmerge campaign --coordinator %s,%s --cacert %s --token-file %s list%n",
                        url, standbyUrl, pki.caBundle(), tokenFile);
                out.println("campaign spec:");
                SPEC.lines().forEach(line -> out.println("  " + line));
                out.flush();

                // Both replicas, the standby first: it names the leader, and the client sends the submission there.
                CampaignClient client = new CampaignClient(
                        standbyUrl + "," + url,
                        ChainmergeCommand.JSON,
                        token,
                        io.chainmerge.common.security.PemFiles.trusting(pki.caBundle()));
                String id = client.submit(SPEC);
                out.println("submitted " + id
                        + " (to coordinator-2, which named the leader; the client sent it there); following it"
                        + " (chainmerge campaign watch " + id + "):");
                out.flush();
                Handover handover = new Handover(coordinator, standby, client, id);
                handover.start();
                CampaignReport report = new CampaignWatch(client, live, System.console() != null).follow(id);
                out.println();
                handover.join();
                out.println(handover.story());
                CampaignView.print(out, report);
                if (served != null) {
                    // The standby took over when the first leader stopped: it serves the dashboard now.
                    serveUntilInterrupted(standbyUrl, tokenFile, pki.caBundle());
                }
            }
        }
        out.println("verification (SHA-256 of every chain's virtual disk, before and after):");
        List<DemoFleet.Check> checks = fleet.verify(out);
        boolean ok = checks.stream().allMatch(DemoFleet.Check::ok);
        double seconds = (System.nanoTime() - started) / 1e9;
        out.printf(
                "%s in %.1f s%n",
                ok ? "OK: every chain reads exactly what it read before" : "FAILED: see above", seconds);
        out.flush();
        return new DemoCommand.Outcome(ok, seconds, work, checks, api);
    }

    /**
     * Prints the dashboard's address and how to sign in, then waits for Ctrl-C (or any other end of the JVM),
     * whose shutdown hook lets the daemons close before the process goes.
     */
    private void serveUntilInterrupted(String url, Path tokenFile, Path caBundle) throws InterruptedException {
        CountDownLatch interrupted = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            interrupted.countDown();
                            try {
                                served.await(60, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "demo-stop"));
        out.println("dashboard: " + url + "/ui/");
        out.println("  sign in with the token in " + tokenFile + " (demo-operator, role operator: it may approve)");
        out.println("  TLS: the demo's throwaway CA signed the certificate, so the browser warns; trust " + caBundle
                + " (for this session only) or accept the warning for 127.0.0.1");
        out.println("  the system stays up until Ctrl-C");
        out.flush();
        interrupted.await();
        out.println("stopping the coordinators, the workers and the broker");
        out.flush();
    }

    /**
     * Stops the leading coordinator once the campaign's first merge has a result, as a rolling update would,
     * and times the standby's takeover. Runs beside the watch, which carries on through the standby.
     */
    private static final class Handover extends Thread {
        private final Coordinator leader;
        private final Coordinator standby;
        private final CampaignClient client;
        private final String campaignId;
        private volatile String story = "handover: none (the campaign ended before its first merge had a result)";

        Handover(Coordinator leader, Coordinator standby, CampaignClient client, String campaignId) {
            super("chainmerge-demo-handover");
            this.leader = leader;
            this.standby = standby;
            this.client = client;
            this.campaignId = campaignId;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    CampaignReport report = client.show(campaignId);
                    if (report.state().isOver()) {
                        return;
                    }
                    if (report.totals().merged()
                                    + report.totals().refused()
                                    + report.totals().failed()
                            > 0) {
                        break;
                    }
                    Thread.sleep(100);
                }
                long stopped = System.nanoTime();
                leader.close();
                standby.leads().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
                story = String.format(
                        "handover: coordinator-1 stopped after the first merge (as in a rolling update); coordinator-2"
                                + " led %d ms later, fenced every earlier leader, and finished the campaign",
                        (System.nanoTime() - stopped) / 1_000_000);
            } catch (Exception e) {
                story = "handover: " + e;
            }
        }

        String story() {
            return story;
        }
    }

    /** The broker's super user: it makes the daemons' users and grants them their roles' ACLs, nothing else. */
    static final String SUPER_USER = "demo-admin";

    /** 128 random bits, hex: a password for one run of the demo, kept nowhere. */
    private static String secret() {
        byte[] bytes = new byte[16];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.HexFormat.of().formatHex(bytes);
    }

    /** Makes a SCRAM user with a fresh password, grants it {@code role}'s ACLs, and gives its daemon settings. */
    private static Map<String, String> identity(Admin setup, String user, KafkaRole role) throws InterruptedException {
        String password = secret();
        KafkaClients.upsertScramUser(setup, user, password);
        KafkaClients.createAcls(setup, role.bindings("User:" + user));
        Map<String, String> settings = new java.util.HashMap<>();
        KafkaClients.scramSha512("SASL_PLAINTEXT", user, password)
                .forEach((key, value) -> settings.put("kafka." + key, value));
        return settings;
    }

    /** A coordinator replica of the demo's group: TLS from the throwaway CA, the demo's principals. */
    private static CoordinatorConfig coordinator(
            String id,
            String bootstrap,
            Map<String, String> kafka,
            Path principals,
            ThrowawayPki pki,
            ThrowawayPki.CapabilityKeys capabilities)
            throws java.io.IOException {
        ThrowawayPki.Issued tls = pki.issue(id);
        Map<String, Object> settings = new java.util.HashMap<>(Map.of(
                "coordinator.id", id,
                "leader.session-timeout", "6s",
                "tls.certificate", tls.certificate().toString(),
                "tls.key", tls.key().toString(),
                "transfer.signing-key", capabilities.signingKey().toString()));
        settings.putAll(Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.partitions",
                3,
                "topics.replication",
                1,
                "security.principals-file",
                principals.toString(),
                "kafka.bootstrap.servers",
                bootstrap));
        settings.putAll(kafka);
        return CoordinatorConfig.of(settings);
    }

    private static WorkerConfig worker(
            String pool,
            String host,
            List<Path> volumes,
            String bootstrap,
            Map<String, String> kafka,
            ThrowawayPki pki,
            ThrowawayPki.CapabilityKeys capabilities)
            throws java.io.IOException {
        ThrowawayPki.Issued tls = pki.issue(host);
        Map<String, Object> settings = new java.util.HashMap<>(Map.of(
                "tls.certificate", tls.certificate().toString(),
                "tls.key", tls.key().toString(),
                "tls.ca", pki.caBundle().toString(),
                "transfer.verification-keys", capabilities.verificationKey().toString()));
        settings.putAll(Map.of(
                "pool",
                pool,
                "worker.id",
                host,
                "volumes",
                volumes.stream().map(Path::toString).toList(),
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.partitions",
                3,
                // The demo's disks were written a moment ago: a quiet period would call every one in use. Run by
                // a user who is not root, the probes cannot see other users' processes; the demo's disks are
                // its own, so that blind spot is no reason to stop it.
                "in-use.quiet",
                "0s",
                "in-use.unavailable",
                "ignore",
                "kafka.bootstrap.servers",
                bootstrap));
        settings.putAll(kafka);
        return WorkerConfig.of(settings);
    }
}
