package io.chainmerge.cli;

import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.jackson.JsonFormat;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "backup",
        header = "Hands merges to the coordinator as a backup system does.",
        mixinStandardHelpOptions = true,
        description =
                "Hands merges to the coordinator as a backup system does, over its HTTP API (docs/backup-integration.md). "
                        + "The outcome arrives on chainmerge.notifications, its correlationid the printed request id.",
        subcommands = {BackupCommand.Publish.class})
final class BackupCommand implements Runnable {
    @Mixin
    CoordinatorAddress coordinator;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "name a backup command (see chainmerge backup --help)");
    }

    @Command(
            name = "publish",
            header = "Posts a backup request to the coordinator; prints its request id.",
            mixinStandardHelpOptions = true,
            description = "Posts an io.chainmerge.backup.checkpoint.released event (--disk) or an "
                    + "io.chainmerge.backup.chain.cleanup-requested event (--folder); prints the request id. "
                    + "The same --source and --id are the same request, however often posted.")
    static final class Publish implements Callable<Integer> {
        @ParentCommand
        BackupCommand parent;

        @Mixin
        Output output;

        static final class Target {
            @Option(
                    names = "--disk",
                    paramLabel = "PATH",
                    description = "the differencing disk to merge into its parent")
            String disk;

            @Option(names = "--folder", paramLabel = "DIR", description = "merge every chain below it to its root")
            String folder;
        }

        static final class Where {
            @Option(names = "--pool", description = "the pool whose workers see the files")
            String pool;

            @Option(names = "--host", description = "a worker's id; its pool comes from the inventory")
            String host;
        }

        @ArgGroup(multiplicity = "1")
        Target target;

        @ArgGroup(multiplicity = "1")
        Where where;

        @Option(names = "--source", description = "the event's source: the backup system (default: ${DEFAULT-VALUE})")
        String source = "/chainmerge/cli";

        @Option(names = "--id", description = "the event's id (default: a new random one)")
        String id;

        @Option(names = "--deadline", paramLabel = "INSTANT", description = "e.g. 2026-11-25T06:00:00Z")
        String deadline;

        @Option(names = "--priority", paramLabel = "0-9", description = "higher goes first")
        Integer priority;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put(where.pool != null ? "pool" : "host", where.pool != null ? where.pool : where.host);
            data.put(target.disk != null ? "disk" : "folder", target.disk != null ? target.disk : target.folder);
            if (deadline != null) {
                data.put("deadline", deadline);
            }
            if (priority != null) {
                data.put("priority", priority);
            }
            CloudEvent event = CloudEventBuilder.v1()
                    .withId(id != null ? id : UUID.randomUUID().toString())
                    .withSource(URI.create(source))
                    .withType(
                            target.disk != null
                                    ? "io.chainmerge.backup.checkpoint.released"
                                    : "io.chainmerge.backup.chain.cleanup-requested")
                    .withData(
                            "application/json",
                            ChainmergeCommand.JSON.write(data).getBytes(StandardCharsets.UTF_8))
                    .build();
            String requestId = parent.coordinator.client().publishBackupEvent(new JsonFormat().serialize(event));
            if (output.json()) {
                output.printJson(Map.of("requestId", requestId, "id", event.getId(), "source", source));
            } else {
                output.out().println(requestId);
            }
            output.out().flush();
            return ExitCodes.OK;
        }
    }
}
