package io.chainmerge.cli;

import io.chainmerge.common.kafka.KafkaClients;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.topic.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "kafka",
        header = "Sets up chainmerge's Kafka identities.",
        mixinStandardHelpOptions = true,
        description = "Sets up the Kafka side of chainmerge's security: the ACLs of each role's identity "
                + "(docs/security.md#kafka-identities).",
        subcommands = {KafkaCommand.Acls.class})
final class KafkaCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "name a kafka command (see chainmerge kafka --help)");
    }

    @Command(
            name = "acls",
            header = "Prints or applies the ACLs of one role's Kafka identity.",
            mixinStandardHelpOptions = true,
            description = "Prints the Kafka ACLs a principal of one role needs, and no more: a coordinator group, the "
                    + "workers of one pool, or a backup system. With --apply they are created on the cluster (as a "
                    + "principal that may alter ACLs: --kafka-config names its client settings); ACLs already there "
                    + "are left as they are. With --strimzi the same ACLs are printed as a Strimzi KafkaUser.")
    static final class Acls implements Callable<Integer> {
        @Mixin
        Output output;

        @Option(
                names = "--role",
                required = true,
                paramLabel = "ROLE",
                description = "coordinator, worker or backup-system")
        String role;

        @Option(
                names = "--principal",
                required = true,
                paramLabel = "TYPE:NAME",
                description = "the Kafka principal to grant, e.g. User:storage-a (a SCRAM user's name)")
        String principal;

        @Option(names = "--pool", paramLabel = "POOL", description = "the workers' pool (role worker)")
        String pool;

        @Option(
                names = "--group",
                paramLabel = "GROUP",
                description = "role coordinator: its coordinator.group (default: coordinator); role backup-system: "
                        + "the consumer group it reads notifications in, if any")
        String group;

        @Option(
                names = "--topic-prefix",
                paramLabel = "PREFIX",
                defaultValue = "chainmerge",
                description = "the daemons' topics.prefix (default: ${DEFAULT-VALUE})")
        String topicPrefix;

        @Option(names = "--apply", description = "create the ACLs on the cluster instead of only printing them")
        boolean apply;

        @Option(
                names = "--bootstrap",
                paramLabel = "HOST:PORT",
                description = "the cluster, for --apply (or bootstrap.servers in --kafka-config)")
        String bootstrap;

        @Option(
                names = "--kafka-config",
                paramLabel = "FILE",
                description = "Kafka client settings (a properties file: security.protocol, sasl.*, ssl.*) of a "
                        + "principal that may alter ACLs, for --apply")
        Path kafkaConfig;

        @Option(
                names = "--strimzi",
                description = "print a Strimzi KafkaUser with these ACLs (its name is the principal's)")
        boolean strimzi;

        @Override
        public Integer call() throws Exception {
            KafkaRole kafkaRole = role(role, new Topics(topicPrefix), pool, group);
            List<AclBinding> bindings = kafkaRole.bindings(principal);
            if (strimzi) {
                if (apply || output.json()) {
                    throw new IllegalArgumentException("--strimzi prints a manifest: not with --apply or --json");
                }
                output.out().print(strimziUser(principal, kafkaRole));
                output.out().flush();
                return ExitCodes.OK;
            }
            if (apply) {
                apply(bindings);
            }
            if (output.json()) {
                Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("role", kafkaRole.name());
                answer.put("principal", principal);
                answer.put("applied", apply);
                answer.put("acls", bindings.stream().map(Acls::json).toList());
                output.printJson(answer);
                return ExitCodes.OK;
            }
            var out = output.out();
            out.println((apply ? "applied" : "ACLs of") + " " + principal + " (" + kafkaRole.name() + "), allowed "
                    + "from any host:");
            for (AclBinding binding : bindings) {
                out.printf(
                        "  %-10s %-16s %s%s%n",
                        name(binding.entry().operation()),
                        name(binding.pattern().resourceType()),
                        binding.pattern().name(),
                        binding.pattern().patternType() == PatternType.PREFIXED ? "*" : "");
            }
            out.flush();
            return ExitCodes.OK;
        }

        static KafkaRole role(String role, Topics topics, String pool, String group) {
            return switch (role) {
                case "coordinator" -> {
                    refuse(pool, "--pool is for role worker");
                    yield new KafkaRole.Coordinator(topics, group == null ? "coordinator" : group);
                }
                case "worker" -> {
                    if (pool == null) {
                        throw new IllegalArgumentException("role worker needs --pool: a worker reads one pool's jobs");
                    }
                    refuse(group, "--group is for roles coordinator and backup-system");
                    yield new KafkaRole.Worker(topics, pool);
                }
                case "backup-system" -> {
                    refuse(pool, "--pool is for role worker");
                    yield new KafkaRole.BackupSystem(topics, Optional.ofNullable(group));
                }
                default ->
                    throw new IllegalArgumentException(
                            "unknown role " + role + ": coordinator, worker or backup-system");
            };
        }

        private static void refuse(String given, String why) {
            if (given != null) {
                throw new IllegalArgumentException(why);
            }
        }

        private void apply(List<AclBinding> bindings) throws IOException, InterruptedException {
            Map<String, Object> settings = new LinkedHashMap<>();
            if (kafkaConfig != null) {
                Properties properties = new Properties();
                try (Reader reader = Files.newBufferedReader(kafkaConfig)) {
                    properties.load(reader);
                }
                properties.forEach((key, value) -> settings.put(key.toString(), value));
            }
            if (bootstrap != null) {
                settings.put("bootstrap.servers", bootstrap);
            }
            if (!settings.containsKey("bootstrap.servers")) {
                throw new IllegalArgumentException(
                        "--apply needs --bootstrap (or bootstrap.servers in --kafka-config)");
            }
            settings.put("client.id", "chainmerge-kafka-acls");
            try (Admin admin = Admin.create(settings)) {
                KafkaClients.createAcls(admin, bindings);
            }
        }

        private static Map<String, Object> json(AclBinding binding) {
            Map<String, Object> acl = new LinkedHashMap<>();
            acl.put("resourceType", binding.pattern().resourceType().name());
            acl.put("name", binding.pattern().name());
            acl.put("patternType", binding.pattern().patternType().name());
            acl.put("operation", binding.entry().operation().name());
            acl.put("permission", binding.entry().permissionType().name());
            acl.put("host", binding.entry().host());
            return acl;
        }

        /** Strimzi's spellings: {@code transactionalId}, {@code Read}, {@code prefix}. */
        static String strimziUser(String principal, KafkaRole role) {
            String user = principal.substring(principal.indexOf(':') + 1);
            StringBuilder yaml = new StringBuilder();
            yaml.append("# Made by: chainmerge kafka acls --role ")
                    .append(role.name())
                    .append(" --principal ")
                    .append(principal)
                    .append(options(role))
                    .append(" --strimzi\n")
                    .append("apiVersion: kafka.strimzi.io/v1\n")
                    .append("kind: KafkaUser\n")
                    .append("metadata:\n")
                    .append("  name: ")
                    .append(user)
                    .append("\n  labels:\n    strimzi.io/cluster: chainmerge\n")
                    .append("spec:\n  authentication:\n    type: scram-sha-512\n")
                    .append("  authorization:\n    type: simple\n    acls:\n");
            for (KafkaRole.Grant grant : role.grants()) {
                yaml.append("      - resource:\n          type: ")
                        .append(
                                switch (grant.resource()) {
                                    case TOPIC -> "topic";
                                    case GROUP -> "group";
                                    case TRANSACTIONAL_ID -> "transactionalId";
                                    case CLUSTER -> "cluster";
                                    default ->
                                        throw new IllegalStateException(
                                                "no Strimzi resource type for " + grant.resource());
                                })
                        .append("\n          name: ")
                        .append(grant.name())
                        .append("\n          patternType: ")
                        .append(grant.pattern() == PatternType.PREFIXED ? "prefix" : "literal")
                        .append("\n        operations: [")
                        .append(String.join(
                                ", ",
                                grant.operations().stream().map(Acls::strimzi).toList()))
                        .append("]\n");
            }
            return yaml.toString();
        }

        private static String options(KafkaRole role) {
            if (role instanceof KafkaRole.Worker worker) {
                return " --pool " + worker.pool();
            }
            if (role instanceof KafkaRole.Coordinator coordinator) {
                return coordinator.group().equals("coordinator") ? "" : " --group " + coordinator.group();
            }
            return ((KafkaRole.BackupSystem) role)
                    .group()
                    .map(g -> " --group " + g)
                    .orElse("");
        }

        private static String strimzi(AclOperation operation) {
            List<String> words = new ArrayList<>();
            for (String word : operation.name().split("_")) {
                words.add(word.charAt(0) + word.substring(1).toLowerCase(Locale.ROOT));
            }
            return String.join("", words);
        }

        private static String name(Enum<?> value) {
            return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
