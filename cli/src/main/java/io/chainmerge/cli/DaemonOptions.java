package io.chainmerge.cli;

import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.common.config.LogFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The options {@code worker} and {@code coordinator} share: where their settings come from. */
final class DaemonOptions {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonOptions.class);

    @Option(names = "--config", paramLabel = "FILE", description = "the settings file (YAML or JSON)")
    Path config;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "a setting that overrides the file and the environment (repeatable)")
    List<String> settings = new ArrayList<>();

    @Option(names = "--print-config", description = "print the resolved settings (secrets masked) and exit")
    boolean printConfig;

    @Option(
            names = "--log-format",
            paramLabel = "FORMAT",
            description =
                    "text or json: the setting log.format, how the daemon logs to standard error (a --set of it wins)")
    String logFormat;

    /**
     * Keeps this process running until SIGTERM (or SIGINT), which closes {@code daemon} gracefully; SIGHUP
     * makes it read its certificates, keys and principals again ({@code reload}) and keeps it running.
     */
    static int runUntilStopped(
            AutoCloseable daemon, CompletionStage<String> died, String name, Supplier<CompletionStage<Boolean>> reload)
            throws InterruptedException {
        reloadOnHangup(name, reload);
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        AtomicReference<String> death = new AtomicReference<>();
        // A daemon whose consumer loop died would answer nothing while it looks alive: end the process,
        // non-zero, so that systemd or Kubernetes starts it again.
        died.thenAccept(reason -> {
            death.set(reason);
            stopped.countDown();
        });
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                daemon.close();
                            } catch (Exception e) {
                                LOG.warn("chainmerge {}: stopping failed", name, e);
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "chainmerge-" + name + "-stop"));
        stopped.await();
        if (death.get() != null) {
            // Through the log, so that with log.format json a collector reads this line like every other.
            LOG.error("chainmerge {}: exiting, {}", name, death.get());
            try {
                daemon.close();
            } catch (Exception e) {
                LOG.warn("chainmerge {}: stopping failed", name, e);
            }
            return ExitCodes.FAILURE;
        }
        return ExitCodes.OK;
    }

    /**
     * SIGHUP, which the JVM otherwise takes for a shutdown, reloads instead ({@code systemctl reload},
     * {@code kill -HUP}). The JDK has no supported API for signals: {@code sun.misc.Signal} (module
     * jdk.unsupported) is the one the JVM's own handlers use, and it is used here only, at the daemon's edge.
     * A reload that fails keeps what was in force and says why in the log; the daemon runs on either way.
     */
    @SuppressWarnings("sunapi")
    static void reloadOnHangup(String name, Supplier<CompletionStage<Boolean>> reload) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                LOG.info("chainmerge {}: SIGHUP: reading certificates, keys and principals again", name);
                reload.get().whenComplete((inForce, e) -> {
                    if (e != null) {
                        LOG.error("chainmerge {}: SIGHUP: the reload failed; what was in force stays", name, e);
                    } else if (inForce) {
                        LOG.info("chainmerge {}: SIGHUP: reloaded; the files read are in force", name);
                    } else {
                        LOG.error(
                                "chainmerge {}: SIGHUP: not everything could be reloaded (the errors above say "
                                        + "why); what could not stays as it was",
                                name);
                    }
                });
            });
        } catch (IllegalArgumentException e) {
            // No SIGHUP here (Windows), or the JVM keeps it (-Xrs): files are still read again when they change.
            LOG.warn(
                    "chainmerge {}: SIGHUP cannot be handled here ({}); reload by changing the files",
                    name,
                    e.getMessage());
        }
    }

    /**
     * The launcher's own variables, which are not settings: the JVM's options (the {@code chainmerge}
     * script), stack traces on failure, and the {@code campaign} commands' coordinator URL.
     */
    static final Set<String> LAUNCHER_VARIABLES = Set.of(
            "CHAINMERGE_JAVA_OPTS",
            "CHAINMERGE_DEBUG",
            CoordinatorAddress.ENVIRONMENT,
            CoordinatorAddress.TOKEN_ENVIRONMENT,
            CoordinatorAddress.CACERT_ENVIRONMENT);

    /** Flags over CHAINMERGE_* environment variables over the file over the defaults. */
    Config resolve(ConfigDef def) throws IOException {
        return resolve(def, System.getenv());
    }

    Config resolve(ConfigDef def, Map<String, String> environment) throws IOException {
        Map<String, Object> file = config == null ? Map.of() : Config.readFile(config);
        Map<String, String> settingsOnly = new HashMap<>(environment);
        settingsOnly.keySet().removeAll(LAUNCHER_VARIABLES);
        List<String> flags = new ArrayList<>();
        if (logFormat != null) {
            flags.add(LogFormat.KEY.name() + "=" + logFormat);
        }
        flags.addAll(settings);
        return Config.resolve(def, file, settingsOnly, Config.parseFlags(flags));
    }
}
