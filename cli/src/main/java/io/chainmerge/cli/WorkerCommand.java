package io.chainmerge.cli;

import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.worker.Worker;
import io.chainmerge.worker.WorkerConfig;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "worker",
        header = "Runs a worker: its pool's jobs, on its volume roots.",
        mixinStandardHelpOptions = true,
        description =
                "Runs a worker: consumes its pool's jobs from Kafka, runs them on the files under its volume roots, "
                        + "and reports results, progress and inventory. Stops gracefully on SIGTERM (a running merge finishes "
                        + "within shutdown.grace or is interrupted resumably); SIGHUP reads its TLS certificate and key again. "
                        + "Settings: docs/configuration.md.")
final class WorkerCommand implements Callable<Integer> {
    @Mixin
    DaemonOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config config = options.resolve(WorkerConfig.DEF);
        if (options.printConfig) {
            spec.commandLine().getOut().println(config);
            return ExitCodes.OK;
        }
        LogFormat format = LogFormat.from(config);
        if (format == LogFormat.JSON) {
            DaemonLogging.use(format);
            // A log collector reads every line of standard error as JSON: the settings go in one line too.
            LoggerFactory.getLogger(WorkerCommand.class).info("settings:\n{}", config);
        } else {
            System.err.println(config);
        }
        Worker worker = Worker.start(WorkerConfig.from(config));
        return DaemonOptions.runUntilStopped(worker, worker.died(), "worker", worker::reload);
    }
}
