package io.chainmerge.cli;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.security.ThrowawayPki;
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

/**
 * {@code chainmerge demo}: the whole system on one machine. A broker in its own process (Kafka's
 * jars, KRaft, one node), a coordinator and two workers in this one, a fleet on temporary volumes,
 * and a campaign over both pools followed live.
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

    FleetDemo(PrintWriter out, PrintStream live, Path work) {
        this.out = out;
        this.live = live;
        this.work = work;
    }

    DemoCommand.Outcome run() throws Exception {
        long started = System.nanoTime();
        // The demo's own lines tell the story; the daemons' logs would bury them (set before any logger exists).
        System.setProperty("org.slf4j.simpleLogger.log.io.chainmerge", "warn");
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
        try (BrokerProcess broker = BrokerProcess.start(work.resolve("kafka"), work.resolve("kafka.log"))) {
            out.println(broker.bootstrapServers());
            String bootstrap = broker.bootstrapServers();
            ThrowawayPki.Issued coordinatorTls = pki.issue("coordinator");
            try (Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
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
                            "tls.certificate",
                            coordinatorTls.certificate().toString(),
                            "tls.key",
                            coordinatorTls.key().toString(),
                            "transfer.signing-key",
                            capabilities.signingKey().toString(),
                            "kafka.bootstrap.servers",
                            bootstrap)));
                    Worker workerA =
                            Worker.start(worker("pool-a", "storage-a", List.of(a1, a2), bootstrap, pki, capabilities));
                    Worker workerB =
                            Worker.start(worker("pool-b", "storage-b", List.of(b1), bootstrap, pki, capabilities))) {
                String url = "https://127.0.0.1:" + coordinator.httpPort();
                api = new DemoCommand.Api(
                        url,
                        tokenFile,
                        "curl --cacert " + pki.caBundle() + " -H \"Authorization: Bearer $(cat " + tokenFile + ")\" "
                                + url + "/campaigns");
                out.printf(
                        "coordinator: %s%nworkers: storage-a (pool-a: vol1, vol2) https %d, storage-b (pool-b: vol1) https %d%n",
                        url, workerA.httpPort(), workerB.httpPort());
                out.println("call its API while the demo runs: " + api.example());
                out.printf(
                        "or: chainmerge campaign --coordinator %s --cacert %s --token-file %s list%n",
                        url, pki.caBundle(), tokenFile);
                out.println("campaign spec:");
                SPEC.lines().forEach(line -> out.println("  " + line));
                out.flush();

                CampaignClient client = new CampaignClient(
                        url,
                        ChainmergeCommand.JSON,
                        token,
                        io.chainmerge.common.security.PemFiles.trusting(pki.caBundle()));
                String id = client.submit(SPEC);
                out.println("submitted " + id + "; following it (chainmerge campaign watch " + id + "):");
                out.flush();
                CampaignReport report = new CampaignWatch(client, live, System.console() != null).follow(id);
                out.println();
                CampaignView.print(out, report);
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

    private static WorkerConfig worker(
            String pool,
            String host,
            List<Path> volumes,
            String bootstrap,
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
        return WorkerConfig.of(settings);
    }
}
