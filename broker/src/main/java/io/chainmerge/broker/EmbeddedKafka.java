package io.chainmerge.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka broker (KRaft, roles broker and controller) run in this JVM from Kafka's own
 * Maven artifacts, on random loopback ports. It can be stopped and started again on the same ports
 * and data, as a broker outage looks to clients. {@link #startClusterNode} makes it one node of a cluster of
 * several (each in a process of its own, {@link BrokerMain}), replicating topics three times.
 *
 * <p>The settings are those docs/architecture.md gives ("Test infrastructure"): internal topics with replication factor 1 (a consumer
 * group stalls on one broker otherwise) and a small log-cleaner buffer, so it runs in a small heap.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final String LOOPBACK = "127.0.0.1";
    private static final String MECHANISM = "SCRAM-SHA-512";

    private final Path dataDir;
    private final int brokerPort;
    private final int controllerPort;
    private final Map<String, String> overrides;
    /** With SASL/SCRAM and ACLs: the super user that sets the others up; null for an open broker. */
    private final SuperUser superUser;
    /** A second plain listener whose advertised address is a {@link FaultProxy}'s; null for none. */
    private final ProxiedListener proxied;
    /** This broker's place in a cluster of several; null for a single-node broker. */
    private final ClusterNode clusterNode;

    private KafkaRaftServer server;
    private FaultProxy proxy;

    private EmbeddedKafka(
            Path dataDir,
            int brokerPort,
            int controllerPort,
            Map<String, String> overrides,
            SuperUser superUser,
            ProxiedListener proxied,
            ClusterNode clusterNode) {
        this.dataDir = dataDir;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
        this.overrides = Map.copyOf(overrides);
        this.superUser = superUser;
        this.proxied = proxied;
        this.clusterNode = clusterNode;
    }

    /**
     * One node (broker and controller) of a cluster of several, each usually in a process of its own: its id, the
     * cluster's id (the same on every node), its ports, and every voter of the controller quorum
     * ({@code 1@127.0.0.1:port,2@…}). Topics are replicated to three nodes and need two in sync; a cluster of one
     * node is a lone broker that keeps its ports and data across restarts (the soak kills and restarts it).
     */
    public record ClusterNode(int nodeId, String clusterId, int brokerPort, int controllerPort, String voters) {
        /** {@code count} nodes on free loopback ports, with a new cluster id. */
        public static List<ClusterNode> plan(int count) {
            String clusterId = Uuid.randomUuid().toString();
            int[] free = freePorts(2 * count);
            List<int[]> ports = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                ports.add(new int[] {free[2 * i], free[2 * i + 1]});
            }
            StringBuilder voters = new StringBuilder();
            for (int i = 0; i < count; i++) {
                voters.append(i == 0 ? "" : ",")
                        .append(i + 1)
                        .append('@')
                        .append(LOOPBACK)
                        .append(':')
                        .append(ports.get(i)[1]);
            }
            List<ClusterNode> nodes = new java.util.ArrayList<>();
            for (int i = 0; i < count; i++) {
                nodes.add(new ClusterNode(i + 1, clusterId, ports.get(i)[0], ports.get(i)[1], voters.toString()));
            }
            return List.copyOf(nodes);
        }

        /** {@code host:port} of this node's client listener. */
        public String bootstrap() {
            return LOOPBACK + ":" + brokerPort;
        }
    }

    /**
     * Starts one node of a cluster on {@code dataDir}, formatting it first when it is empty and starting on its
     * data otherwise: a node killed and started again rejoins with what it had.
     */
    public static EmbeddedKafka startClusterNode(Path dataDir, ClusterNode node, Map<String, String> overrides) {
        EmbeddedKafka kafka =
                new EmbeddedKafka(dataDir, node.brokerPort(), node.controllerPort(), overrides, null, null, node);
        if (!Files.exists(dataDir.resolve("meta.properties"))) {
            kafka.format();
        }
        kafka.startServer();
        return kafka;
    }

    /**
     * A listener on {@code port} that tells its clients to reach the broker at {@code advertised} (a proxy that
     * carries to {@code port}): clients that bootstrap there keep every connection behind the proxy, where
     * clients of {@link #bootstrapServers()} reach the broker directly.
     */
    private record ProxiedListener(int port, String advertised) {}

    /**
     * The one principal the authorizer lets do anything: the broker itself (between its listeners) and whoever
     * creates the other users and their ACLs.
     */
    public record SuperUser(String name, String password) {
        public SuperUser {
            if (name == null || !name.matches("[A-Za-z0-9._-]+") || password == null || password.isEmpty()) {
                throw new IllegalArgumentException("a super user needs a plain name and a password");
            }
        }

        @Override
        public String toString() {
            return "SuperUser[" + name + "]";
        }
    }

    /** Formats {@code dataDir} (which must be empty or absent) and starts a broker on it. */
    public static EmbeddedKafka start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    /** As {@link #start(Path)}, with broker settings that override the defaults. */
    public static EmbeddedKafka start(Path dataDir, Map<String, String> overrides) {
        int[] ports = freePorts(2);
        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, ports[0], ports[1], overrides, null, null, null);
        kafka.format();
        kafka.startServer();
        return kafka;
    }

    /**
     * An open broker with a second listener behind a {@link FaultProxy}, started here: the proxy's address is
     * what that listener advertises, so a client bootstrapped on {@link #proxiedBootstrapServers()} (a daemon
     * under test) meets every network fault the proxy makes, while the test's own clients on {@link
     * #bootstrapServers()} do not.
     */
    public static EmbeddedKafka startBehindProxy(Path dataDir, Map<String, String> overrides) {
        int[] ports = freePorts(3);
        int listenerPort = ports[2];
        FaultProxy proxy = FaultProxy.start(new java.net.InetSocketAddress(LOOPBACK, listenerPort));
        EmbeddedKafka kafka = new EmbeddedKafka(
                dataDir, ports[0], ports[1], overrides, null, new ProxiedListener(listenerPort, proxy.address()), null);
        kafka.proxy = proxy;
        kafka.format();
        kafka.startServer();
        return kafka;
    }

    /** The proxy in front of the second listener of a broker {@link #startBehindProxy started behind one}. */
    public FaultProxy proxy() {
        if (proxy == null) {
            throw new IllegalStateException("this broker was not started behind a proxy");
        }
        return proxy;
    }

    /** {@code host:port} of the proxy, for the {@code bootstrap.servers} of clients that go through it. */
    public String proxiedBootstrapServers() {
        return proxy().address();
    }

    /**
     * A broker whose clients authenticate with SASL/SCRAM-SHA-512 (over plain TCP on loopback) and are
     * authorized by KRaft's {@code StandardAuthorizer}: a principal may do only what an ACL allows. Only
     * {@code superUser} exists at first (its SCRAM credential is written when the storage is formatted);
     * {@link #addUser} makes the others.
     */
    public static EmbeddedKafka startWithAcls(Path dataDir, SuperUser superUser, Map<String, String> overrides) {
        int[] ports = freePorts(2);
        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, ports[0], ports[1], overrides, superUser, null, null);
        kafka.format();
        kafka.startServer();
        return kafka;
    }

    /** {@code host:port} for clients' {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return LOOPBACK + ":" + brokerPort;
    }

    /** Whether clients must authenticate and are held to ACLs ({@link #startWithAcls}). */
    public boolean enforcesAcls() {
        return superUser != null;
    }

    /**
     * Client settings (bootstrap and, on a broker with ACLs, SASL/SCRAM) for the user {@code name}: what a
     * daemon's {@code kafka.*} settings would hold.
     */
    public Map<String, String> clientSettings(String name, String password) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("bootstrap.servers", bootstrapServers());
        if (superUser != null) {
            settings.putAll(scramClient(name, password));
        }
        return settings;
    }

    /** {@link #clientSettings} of the super user. */
    public Map<String, String> superUserSettings() {
        if (superUser == null) {
            return clientSettings(null, null);
        }
        return clientSettings(superUser.name(), superUser.password());
    }

    /** The SASL settings of a SCRAM-SHA-512 client over plain TCP: {@code security.protocol} and on. */
    public static Map<String, String> scramClient(String name, String password) {
        return Map.of(
                "security.protocol",
                "SASL_PLAINTEXT",
                "sasl.mechanism",
                MECHANISM,
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + name + "\" password=\""
                        + password + "\";");
    }

    /** Makes (or gives a new password to) a SCRAM user, as the super user. It may do nothing until granted. */
    public void addUser(String name, String password) {
        if (superUser == null) {
            throw new IllegalStateException("this broker takes anyone: start it with startWithAcls for users");
        }
        Map<String, Object> admin = new LinkedHashMap<>(superUserSettings());
        try (Admin client = Admin.create(admin)) {
            client.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                            name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot add the Kafka user " + name + ": " + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while adding the Kafka user " + name, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not add the Kafka user " + name + " in 30 s", e);
        }
    }

    public Path dataDir() {
        return dataDir;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Stops the broker, keeping its data and ports; {@link #restart()} brings it back. */
    public synchronized void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    /** Starts the broker again on the same ports and data after {@link #stop()}. */
    public synchronized void restart() {
        if (server == null) {
            startServer();
        }
    }

    @Override
    public void close() {
        stop();
        if (proxy != null) {
            proxy.close();
        }
    }

    private Map<String, String> settings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("process.roles", "broker,controller");
        settings.put("node.id", "1");
        settings.put("controller.quorum.voters", "1@" + LOOPBACK + ":" + controllerPort);
        if (superUser == null) {
            settings.put(
                    "listeners",
                    "PLAINTEXT://" + LOOPBACK + ":" + brokerPort + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort);
            settings.put("advertised.listeners", "PLAINTEXT://" + LOOPBACK + ":" + brokerPort);
            settings.put("controller.listener.names", "CONTROLLER");
            settings.put("inter.broker.listener.name", "PLAINTEXT");
            settings.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            if (proxied != null) {
                settings.put("listeners", settings.get("listeners") + ",PROXIED://" + LOOPBACK + ":" + proxied.port());
                settings.put(
                        "advertised.listeners",
                        settings.get("advertised.listeners") + ",PROXIED://" + proxied.advertised());
                settings.put(
                        "listener.security.protocol.map",
                        settings.get("listener.security.protocol.map") + ",PROXIED:PLAINTEXT");
            }
        } else {
            settings.putAll(withAcls(superUser));
        }
        // Internal topics: one replica on a lone broker (a group stalls otherwise), three, two in sync, in a cluster.
        // A cluster of one node (a lone broker that restarts on its data, on the same ports) counts as lone.
        boolean lone = clusterNode == null || clusterNode.voters().split(",").length == 1;
        String replicas = lone ? "1" : "3";
        String inSync = lone ? "1" : "2";
        settings.put("log.dirs", dataDir.toString());
        settings.put("offsets.topic.replication.factor", replicas);
        settings.put("offsets.topic.num.partitions", "5");
        settings.put("transaction.state.log.replication.factor", replicas);
        settings.put("transaction.state.log.min.isr", inSync);
        settings.put("share.coordinator.state.topic.replication.factor", replicas);
        settings.put("share.coordinator.state.topic.min.isr", inSync);
        settings.put("group.initial.rebalance.delay.ms", "0");
        // Lets tests and the demo use short session timeouts, so a killed worker's jobs move quickly.
        settings.put("group.min.session.timeout.ms", "1000");
        settings.put("log.cleaner.dedupe.buffer.size", String.valueOf(4 << 20));
        settings.put("log.cleaner.backoff.ms", "1000");
        // chainmerge creates its topics itself; a typo in a topic name must not create one silently.
        settings.put("auto.create.topics.enable", "false");
        settings.put("num.partitions", "1");
        if (clusterNode != null) {
            settings.put("node.id", String.valueOf(clusterNode.nodeId()));
            settings.put("controller.quorum.voters", clusterNode.voters());
            settings.put("default.replication.factor", replicas);
            settings.put("min.insync.replicas", inSync);
            // A dead node leaves the in-sync replicas in seconds rather than Kafka's 30 s: tests see it sooner.
            settings.put("replica.lag.time.max.ms", "5000");
        }
        settings.putAll(overrides);
        return settings;
    }

    /**
     * Both listeners authenticate: clients (and the broker to itself, for transaction markers) with SCRAM,
     * which KRaft cannot offer on the controller listener, so the broker and its own controller use PLAIN there,
     * with the super user's password as the only entry. Nobody is anonymous, so nobody gets in unnamed.
     */
    private Map<String, String> withAcls(SuperUser user) {
        String jaasUser = "username=\"" + user.name() + "\" password=\"" + user.password() + "\"";
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(
                "listeners",
                "CLIENT://" + LOOPBACK + ":" + brokerPort + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort);
        settings.put("advertised.listeners", "CLIENT://" + LOOPBACK + ":" + brokerPort);
        settings.put("controller.listener.names", "CONTROLLER");
        settings.put("inter.broker.listener.name", "CLIENT");
        settings.put("listener.security.protocol.map", "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
        settings.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        settings.put("listener.name.client.sasl.enabled.mechanisms", MECHANISM);
        settings.put(
                "listener.name.client.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required " + jaasUser + ";");
        settings.put("sasl.mechanism.controller.protocol", "PLAIN");
        settings.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        settings.put(
                "listener.name.controller.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required " + jaasUser + " user_" + user.name()
                        + "=\"" + user.password() + "\";");
        settings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        settings.put("super.users", "User:" + user.name());
        settings.put("allow.everyone.if.no.acl.found", "false");
        return settings;
    }

    private void format() {
        try {
            Files.createDirectories(dataDir);
            try (var entries = Files.list(dataDir)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalStateException(dataDir + " is not empty: a new broker needs an empty folder");
                }
            }
            new Formatter()
                    .setNodeId(clusterNode == null ? 1 : clusterNode.nodeId())
                    .setClusterId(clusterNode == null ? Uuid.randomUuid().toString() : clusterNode.clusterId())
                    .setDirectories(Set.of(dataDir.toString()))
                    .setMetadataLogDirectory(dataDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    // The super user's SCRAM credential exists from the first start: the broker logs in with it.
                    .setScramArguments(
                            superUser == null
                                    ? List.of()
                                    : List.of(MECHANISM + "=[name=" + superUser.name() + ",password="
                                            + superUser.password() + "]"))
                    .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                    .run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot format the broker's storage in " + dataDir, e);
        }
    }

    private synchronized void startServer() {
        Properties properties = new Properties();
        properties.putAll(settings());
        KafkaRaftServer started = new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
        started.startup();
        server = started;
    }

    /**
     * {@code count} free loopback ports, all different: the sockets are held open together while the ports are
     * chosen (one closed before the next is opened may be handed out again, and a broker's two listeners on one
     * port do not start).
     */
    private static int[] freePorts(int count) {
        List<ServerSocket> sockets = new java.util.ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK));
                socket.setReuseAddress(true);
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a listening socket that accepted nothing
                }
            }
        }
    }

    /** The settings a broker started with these overrides would use, for the record. */
    public List<String> describe() {
        return settings().entrySet().stream()
                .map(e -> e.getKey() + "=" + (e.getKey().endsWith("jaas.config") ? "[hidden]" : e.getValue()))
                .toList();
    }
}
