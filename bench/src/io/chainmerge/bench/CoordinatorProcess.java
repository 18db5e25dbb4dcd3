package io.chainmerge.bench;

import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A coordinator in a JVM of its own, so that its CPU time and heap are its own: the campaign-scale bench
 * starts it, reads {@code PORT}, {@code LEADS} and {@code STATS} lines from its standard output, and asks for
 * statistics with {@code stats} on its standard input. Args: bootstrap, coordinator id.
 */
public final class CoordinatorProcess {
    public static void main(String[] args) throws Exception {
        long started = ManagementFactory.getRuntimeMXBean().getStartTime();
        Coordinator coordinator = Coordinator.start(CoordinatorConfig.of(Map.of(
                "coordinator.id", args[1],
                "http.host", "127.0.0.1",
                "http.port", 0,
                "topics.partitions", 3,
                "topics.replication", 1,
                "tick", "100ms",
                // The benchmark measures campaigns, not the API's guard: a lab coordinator.
                "security.mode", "insecure",
                "kafka.bootstrap.servers", args[0])));
        System.out.println("PORT " + coordinator.httpPort() + " " + (System.currentTimeMillis() - started));
        coordinator.leads().thenRun(() -> System.out.println("LEADS " + (System.currentTimeMillis() - started)));
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("stats")) {
                System.gc();
                System.gc();
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                System.out.println("STATS " + os.getProcessCpuTime() + " " + heap);
            } else if (line.equals("exit")) {
                break;
            }
        }
        coordinator.close();
        System.exit(0);
    }
}
