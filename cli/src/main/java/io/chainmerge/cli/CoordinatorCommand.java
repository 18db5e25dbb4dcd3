package io.chainmerge.cli;

import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.LogFormat;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
        name = "coordinator",
        header = "Runs the coordinator: campaigns, their jobs, the HTTP API.",
        mixinStandardHelpOptions = true,
        description =
                "Runs the coordinator: creates the topics, rebuilds every campaign from chainmerge.campaigns, drives "
                        + "them, and serves the HTTP API that 'chainmerge campaign' talks to. SIGHUP reads its principals file, "
                        + "TLS certificate, key and client CA bundle again. Settings: docs/configuration.md.")
final class CoordinatorCommand implements Callable<Integer> {
    @Mixin
    DaemonOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config config = options.resolve(CoordinatorConfig.DEF);
        if (options.printConfig) {
            spec.commandLine().getOut().println(config);
            return ExitCodes.OK;
        }
        LogFormat format = LogFormat.from(config);
        if (format == LogFormat.JSON) {
            DaemonLogging.use(format);
            // A log collector reads every line of standard error as JSON: the settings go in one line too.
            LoggerFactory.getLogger(CoordinatorCommand.class).info("settings:\n{}", config);
        } else {
            System.err.println(config);
        }
        Coordinator coordinator = Coordinator.start(CoordinatorConfig.from(config));
        return DaemonOptions.runUntilStopped(coordinator, coordinator.died(), "coordinator", coordinator::reload);
    }
}
