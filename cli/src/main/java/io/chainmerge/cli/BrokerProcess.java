package io.chainmerge.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A single-node Kafka broker in a process of its own, from the jars the build puts in
 * {@code target/broker} beside {@code target/lib}: the demo's and the benchmark's broker. Its
 * standard input stays open while this JVM wants it; the broker stops when it closes.
 */
final class BrokerProcess implements AutoCloseable {
    private final Process process;
    private final String bootstrap;

    private BrokerProcess(Process process, String bootstrap) {
        this.process = process;
        this.bootstrap = bootstrap;
    }

    static BrokerProcess start(Path dataDir, Path log) throws IOException, InterruptedException {
        return start(dataDir, log, null, null);
    }

    /**
     * A broker that takes only SASL/SCRAM clients and holds them to ACLs; {@code superUser} may do everything
     * (create the others and grant them). Its password reaches the broker through the environment.
     */
    static BrokerProcess startWithAcls(Path dataDir, Path log, String superUser, String superPassword)
            throws IOException, InterruptedException {
        return start(dataDir, log, superUser, superPassword);
    }

    private static BrokerProcess start(Path dataDir, Path log, String superUser, String superPassword)
            throws IOException, InterruptedException {
        Path home = installation();
        Path brokerJars = home.resolve("broker");
        if (!Files.isDirectory(brokerJars)) {
            throw new IOException("no broker jars in " + brokerJars + ": build with 'mvn package' (./chainmerge does)");
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = brokerJars + "/*" + java.io.File.pathSeparator + home.resolve("lib") + "/*";
        ProcessBuilder builder = new ProcessBuilder(List.of(
                        javaBin,
                        "-Xmx768m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        classpath,
                        "io.chainmerge.broker.BrokerMain",
                        dataDir.toString()))
                .redirectError(log.toFile());
        if (superUser != null) {
            builder.environment().put("CHAINMERGE_BROKER_SUPER_USER", superUser);
            builder.environment().put("CHAINMERGE_BROKER_SUPER_PASSWORD", superPassword);
        }
        Process process = builder.start();
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try (BufferedReader lines =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("BOOTSTRAP ")) {
                        return line.substring("BOOTSTRAP ".length()).strip();
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            String bootstrap = ready.get(90, TimeUnit.SECONDS);
            if (bootstrap == null) {
                throw new IOException("the broker stopped before it was ready; see " + log);
            }
            return new BrokerProcess(process, bootstrap);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new IOException("the broker did not start in 90 s; see " + log, e);
        }
    }

    /** The folder holding {@code chainmerge.jar} (or the classes) with {@code lib/} and {@code broker/}. */
    static Path installation() throws IOException {
        try {
            Path location = Path.of(BrokerProcess.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            return location.getParent();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    String bootstrapServers() {
        return bootstrap;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
