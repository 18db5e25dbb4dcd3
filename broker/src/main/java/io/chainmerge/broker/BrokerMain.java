package io.chainmerge.broker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs {@link EmbeddedKafka} as a process of its own, for {@code chainmerge demo} and the benchmark:
 * {@code BrokerMain DATA_DIR}. Prints {@code BOOTSTRAP host:port} on standard output once the broker
 * is up, and stops when standard input closes (its parent went away) or on SIGTERM. With
 * {@code CHAINMERGE_BROKER_SUPER_USER} and {@code CHAINMERGE_BROKER_SUPER_PASSWORD} in its environment (not on
 * its command line, which anyone on the machine can read) it authenticates every client with SASL/SCRAM and
 * holds it to ACLs, that user being the only one allowed everything ({@link EmbeddedKafka#startWithAcls}).
 * {@code BrokerMain DATA_DIR NODE_ID CLUSTER_ID BROKER_PORT CONTROLLER_PORT VOTERS} runs one node of a cluster
 * of several instead ({@link EmbeddedKafka#startClusterNode}), on its data if DATA_DIR holds some.
 */
public final class BrokerMain {
    private BrokerMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1 && args.length != 6) {
            System.err.println(
                    "usage: BrokerMain DATA_DIR [NODE_ID CLUSTER_ID BROKER_PORT CONTROLLER_PORT VOTERS]  (the five: one"
                            + " node of a cluster)");
            System.exit(2);
        }
        String superUser = System.getenv("CHAINMERGE_BROKER_SUPER_USER");
        EmbeddedKafka kafka = args.length == 6
                ? EmbeddedKafka.startClusterNode(
                        Path.of(args[0]),
                        new EmbeddedKafka.ClusterNode(
                                Integer.parseInt(args[1]),
                                args[2],
                                Integer.parseInt(args[3]),
                                Integer.parseInt(args[4]),
                                args[5]),
                        java.util.Map.of())
                : superUser == null
                        ? EmbeddedKafka.start(Path.of(args[0]))
                        : EmbeddedKafka.startWithAcls(
                                Path.of(args[0]),
                                new EmbeddedKafka.SuperUser(
                                        superUser, System.getenv("CHAINMERGE_BROKER_SUPER_PASSWORD")),
                                java.util.Map.of());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            stopped.countDown();
        }));
        System.out.println("BOOTSTRAP " + kafka.bootstrapServers());
        System.out.flush();
        Thread watcher = new Thread(
                () -> {
                    try (InputStream in = System.in) {
                        while (in.read() >= 0) {
                            // the parent keeps this pipe open while it wants the broker
                        }
                    } catch (IOException e) {
                        // a broken pipe means the parent is gone, like end of input
                    }
                    System.exit(0);
                },
                "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
        stopped.await();
    }
}
