package io.chainmerge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.chainmerge.worker.WorkerConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.user.KafkaUser;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import picocli.CommandLine;

/**
 * What the deployment files (Dockerfile, docker-compose.yml, deploy/, k8s/) must agree on with each other
 * and with the code. Every check returns the problems it found, each naming the file and the field, so a
 * test can feed it a deliberately wrong copy and see the problem named.
 */
final class DeploymentChecks {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final String IMAGE_NAME = "chainmerge/chainmerge";

    private static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory());
    private static final ObjectMapper MODEL = new ObjectMapper();

    /**
     * The kinds k8s/ may hold, by apiVersion and kind, each with its model class (fabric8's Kubernetes
     * model, Strimzi's). Naming them here rather than letting fabric8 look every kind up keeps the check
     * fast (no scan of a thousand model classes) and makes a kind nobody checked an error.
     */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.ofEntries(
            Map.entry("v1 Namespace", io.fabric8.kubernetes.api.model.Namespace.class),
            Map.entry("v1 ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class),
            Map.entry("v1 Secret", io.fabric8.kubernetes.api.model.Secret.class),
            Map.entry("v1 Service", io.fabric8.kubernetes.api.model.Service.class),
            Map.entry("apps/v1 Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class),
            Map.entry("apps/v1 DaemonSet", io.fabric8.kubernetes.api.model.apps.DaemonSet.class),
            Map.entry(
                    "policy/v1 PodDisruptionBudget",
                    io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class),
            Map.entry(
                    "networking.k8s.io/v1 NetworkPolicy",
                    io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class),
            Map.entry("kafka.strimzi.io/v1 Kafka", Kafka.class),
            Map.entry("kafka.strimzi.io/v1 KafkaNodePool", KafkaNodePool.class),
            Map.entry("kafka.strimzi.io/v1 KafkaUser", KafkaUser.class),
            Map.entry(
                    "monitoring.coreos.com/v1 ServiceMonitor",
                    io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor.class),
            Map.entry(
                    "monitoring.coreos.com/v1 PrometheusRule",
                    io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule.class));

    /** Kustomize's fields for Kustomization and Component files (kustomize v5 reference). */
    private static final Set<String> KUSTOMIZE_FIELDS = Set.of(
            "apiVersion",
            "kind",
            "metadata",
            "resources",
            "components",
            "namespace",
            "namePrefix",
            "nameSuffix",
            "labels",
            "commonLabels",
            "commonAnnotations",
            "images",
            "patches",
            "replacements",
            "replicas",
            "configMapGenerator",
            "secretGenerator",
            "generatorOptions",
            "generators",
            "transformers",
            "validators",
            "crds",
            "openapi",
            "buildMetadata",
            "sortOptions",
            "helmCharts");

    private DeploymentChecks() {}

    // ---------------------------------------------------------------- reading

    static String read(String relative) {
        try {
            return Files.readString(ROOT.resolve(relative));
        } catch (IOException e) {
            throw new AssertionError("cannot read " + relative, e);
        }
    }

    static List<JsonNode> documents(String yaml) {
        try (var parser = YAML.createParser(yaml)) {
            List<JsonNode> docs = new ArrayList<>();
            for (Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new IllegalArgumentException("not YAML: " + e.getMessage(), e);
        }
    }

    /** Every YAML file under k8s/, relative to the repository. */
    static List<String> kubernetesFiles() {
        try (Stream<Path> files = Files.walk(ROOT.resolve("k8s"))) {
            return files.filter(p -> p.toString().endsWith(".yaml"))
                    .map(p -> ROOT.relativize(p).toString())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static boolean isKustomization(String file) {
        return file.endsWith("kustomization.yaml");
    }

    /** Patch files: listed under some kustomization's patches. */
    static Set<String> patchFiles() {
        Set<String> patches = new java.util.TreeSet<>();
        for (String file : kubernetesFiles()) {
            if (isKustomization(file)) {
                JsonNode k = documents(read(file)).get(0);
                k.path("patches")
                        .forEach(p -> patches.add(resolve(file, p.path("path").asText())));
            }
        }
        return patches;
    }

    static String resolve(String kustomization, String relative) {
        return ROOT.relativize(ROOT.resolve(kustomization)
                        .getParent()
                        .resolve(relative)
                        .normalize())
                .toString();
    }

    static String projectVersion() {
        try {
            var doc = DocumentBuilderFactory.newInstance()
                    .newDocumentBuilder()
                    .parse(ROOT.resolve("pom.xml").toFile());
            var children = doc.getDocumentElement().getChildNodes();
            for (int i = 0; i < children.getLength(); i++) {
                if (children.item(i).getNodeName().equals("version")) {
                    return children.item(i).getTextContent().strip();
                }
            }
            throw new AssertionError("pom.xml has no version");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String kafkaVersion() {
        var matcher = java.util.regex.Pattern.compile("<kafka.version>([^<]+)</kafka.version>")
                .matcher(read("pom.xml"));
        if (!matcher.find()) {
            throw new AssertionError("pom.xml has no kafka.version");
        }
        return matcher.group(1);
    }

    static String expectedImage() {
        return IMAGE_NAME + ":" + projectVersion();
    }

    // ---------------------------------------------------------------- Kubernetes: known fields only

    /**
     * Each document deserialized with fabric8's Kubernetes model (Strimzi's for Strimzi kinds). The models
     * keep unknown fields in {@code additionalProperties} rather than failing, so every object of the result
     * is walked and any field kept there is a problem. Patches may carry kustomize's {@code $patch}.
     */
    static List<String> kubernetesProblems(String file, String yaml, boolean patch) {
        List<String> problems = new ArrayList<>();
        List<JsonNode> docs;
        try {
            docs = documents(yaml);
        } catch (IllegalArgumentException e) {
            return List.of(file + ": " + e.getMessage());
        }
        for (JsonNode doc : docs) {
            String kind = doc.path("kind").asText();
            String where =
                    file + " (" + kind + " " + doc.path("metadata").path("name").asText() + ")";
            if (kind.equals("Kustomization") || kind.equals("Component")) {
                doc.fieldNames().forEachRemaining(field -> {
                    if (!KUSTOMIZE_FIELDS.contains(field)) {
                        problems.add(where + ": unknown kustomize field " + field);
                    }
                });
                continue;
            }
            JsonNode body = doc.deepCopy();
            if (patch && body instanceof ObjectNode object) {
                object.remove("$patch");
            }
            Class<? extends HasMetadata> type = KINDS.get(doc.path("apiVersion").asText() + " " + kind);
            if (type == null) {
                problems.add(where + ": " + doc.path("apiVersion").asText() + " " + kind + " is not a known kind "
                        + KINDS.keySet());
                continue;
            }
            Object model;
            try {
                model = MODEL.treeToValue(body, type);
            } catch (IOException | RuntimeException e) {
                problems.add(where + ": does not deserialize: " + e.getMessage());
                continue;
            }
            unknownFields(model, "", problems, where, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        return problems;
    }

    private static void unknownFields(Object node, String path, List<String> problems, String where, Set<Object> seen) {
        if (node == null || !seen.add(node)) {
            return;
        }
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", problems, where, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, problems, where, seen));
            return;
        }
        String pkg = node.getClass().getPackageName();
        if (!pkg.startsWith("io.fabric8.kubernetes.api.model") && !pkg.startsWith("io.strimzi.api")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0
                    || Modifier.isStatic(getter.getModifiers())
                    || getter.getDeclaringClass() == Object.class
                    || !(getter.getName().startsWith("get") || getter.getName().startsWith("is"))) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(field -> problems.add(where + ": unknown field " + path + "." + field));
                }
            } else {
                String name = getter.getName().replaceFirst("^(get|is)", "");
                unknownFields(
                        value,
                        path + "." + Character.toLowerCase(name.charAt(0)) + name.substring(1),
                        problems,
                        where,
                        seen);
            }
        }
    }

    /** Every path a kustomization lists exists, and every manifest is listed by some kustomization. */
    static List<String> kustomizeProblems() {
        List<String> problems = new ArrayList<>();
        Set<String> listed = new java.util.TreeSet<>();
        for (String file : kubernetesFiles()) {
            if (!isKustomization(file)) {
                continue;
            }
            JsonNode k = documents(read(file)).get(0);
            List<String> paths = new ArrayList<>();
            k.path("resources").forEach(r -> paths.add(r.asText()));
            k.path("components").forEach(r -> paths.add(r.asText()));
            k.path("patches").forEach(p -> paths.add(p.path("path").asText()));
            for (String relative : paths) {
                String target = resolve(file, relative);
                Path resolved = ROOT.resolve(target);
                if (Files.isDirectory(resolved)) {
                    if (!Files.exists(resolved.resolve("kustomization.yaml"))) {
                        problems.add(file + ": " + relative + " has no kustomization.yaml");
                    }
                } else if (!Files.exists(resolved)) {
                    problems.add(file + ": " + relative + " does not exist");
                } else {
                    listed.add(target);
                }
            }
        }
        for (String file : kubernetesFiles()) {
            if (!isKustomization(file) && !listed.contains(file)) {
                problems.add(file + ": no kustomization lists it");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- what a chainmerge container runs

    /** A chainmerge container as a manifest describes it: its command line, environment, files and port. */
    record Daemon(
            String where,
            List<String> args,
            Map<String, String> environment,
            Map<String, Object> configFile,
            Integer port,
            List<String> probePaths) {

        String component() {
            return args.isEmpty() ? "" : args.get(0);
        }

        ConfigDef def() {
            return switch (component()) {
                case "worker" -> WorkerConfig.DEF;
                case "coordinator" -> CoordinatorConfig.DEF;
                default -> null;
            };
        }
    }

    /**
     * Resolves the daemon's settings exactly as {@code chainmerge worker|coordinator} does (file, then
     * environment, with the launcher's variables set aside): an unknown key, an unknown CHAINMERGE_
     * variable, a missing required key or a bad value is a problem; so is a port that is not the one the
     * daemon will listen on.
     */
    static List<String> settingsProblems(Daemon daemon) {
        List<String> problems = new ArrayList<>();
        ConfigDef def = daemon.def();
        if (def == null) {
            return problems;
        }
        Map<String, String> env = new LinkedHashMap<>(daemon.environment());
        env.keySet().removeAll(DaemonOptions.LAUNCHER_VARIABLES);
        try {
            Config config = Config.resolve(def, daemon.configFile(), env, Map.of());
            int port = def == WorkerConfig.DEF
                    ? WorkerConfig.from(config).httpPort()
                    : CoordinatorConfig.from(config).httpPort();
            if (daemon.port() != null && daemon.port() != port) {
                problems.add(daemon.where() + ": names port " + daemon.port() + " but the " + daemon.component()
                        + " listens on " + port);
            }
        } catch (RuntimeException e) {
            problems.add(daemon.where() + ": " + e.getMessage());
        }
        return problems;
    }

    /** The command line parses with the real CLI. */
    static List<String> commandProblems(String where, List<String> args) {
        try {
            new CommandLine(new ChainmergeCommand()).parseArgs(args.toArray(String[]::new));
            return List.of();
        } catch (CommandLine.ParameterException e) {
            return List.of(where + ": chainmerge " + String.join(" ", args) + ": " + e.getMessage());
        }
    }

    static Map<String, Object> configFile(String yaml) {
        try {
            Path temp = Files.createTempFile("chainmerge-settings", ".yaml");
            try {
                Files.writeString(temp, yaml);
                return Config.readFile(temp);
            } finally {
                Files.delete(temp);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static String text(JsonNode node) {
        return node.isMissingNode() || node.isNull() ? null : node.asText();
    }

    static ObjectMapper yaml() {
        return YAML;
    }

    // ---------------------------------------------------------------- docker-compose.yml

    /** ${NAME:-default} as Compose substitutes it when NAME is unset. */
    static String substitute(String value) {
        return value.replaceAll("\\$\\{[A-Za-z0-9_]+:-([^}]*)}", "$1");
    }

    static List<String> list(JsonNode node) {
        List<String> items = new ArrayList<>();
        node.forEach(item -> items.add(item.asText()));
        return items;
    }

    /** The chainmerge services of a compose file, as daemons; config files read from the bind mounts. */
    static List<Daemon> composeDaemons(JsonNode compose) {
        List<Daemon> daemons = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(entry -> {
            JsonNode service = entry.getValue();
            if (!service.path("image").asText().startsWith(IMAGE_NAME + ":")) {
                return;
            }
            String where = "docker-compose.yml services." + entry.getKey();
            List<String> args = list(service.path("command"));
            Map<String, String> env = new LinkedHashMap<>();
            service.path("environment")
                    .fields()
                    .forEachRemaining(
                            e -> env.put(e.getKey(), substitute(e.getValue().asText())));
            Map<String, Object> file = Map.of();
            int config = args.indexOf("--config");
            if (config >= 0) {
                String inContainer = args.get(config + 1);
                String source = null;
                for (String volume : list(service.path("volumes"))) {
                    String[] parts = volume.split(":");
                    if (parts.length >= 2 && parts[1].equals(inContainer)) {
                        source = parts[0];
                    }
                }
                file = source == null ? null : configFile(read(source));
            }
            Integer port = null;
            List<String> paths = new ArrayList<>();
            for (String word : list(service.path("healthcheck").path("test"))) {
                if (word.startsWith("http://")) {
                    java.net.URI uri = java.net.URI.create(word);
                    port = uri.getPort();
                    paths.add(uri.getPath());
                }
            }
            daemons.add(new Daemon(where, args, env, file, port, paths));
        });
        return daemons;
    }

    // ---------------------------------------------------------------- k8s/

    static JsonNode manifest(String file, String kind, String name) {
        for (JsonNode doc : documents(read(file))) {
            if (doc.path("kind").asText().equals(kind)
                    && doc.path("metadata").path("name").asText().equals(name)) {
                return doc;
            }
        }
        throw new AssertionError(file + " has no " + kind + " " + name);
    }

    /** Every ConfigMap and Secret of the tree by name: its data keys and values (Secrets: stringData). */
    static Map<String, Map<String, String>> dataByName(String kind) {
        Map<String, Map<String, String>> found = new LinkedHashMap<>();
        Set<String> patches = patchFiles();
        for (String file : kubernetesFiles()) {
            if (isKustomization(file) || patches.contains(file)) {
                continue;
            }
            for (JsonNode doc : documents(read(file))) {
                if (doc.path("kind").asText().equals(kind)) {
                    Map<String, String> data = new LinkedHashMap<>();
                    doc.path("data")
                            .fields()
                            .forEachRemaining(
                                    e -> data.put(e.getKey(), e.getValue().asText()));
                    doc.path("stringData")
                            .fields()
                            .forEachRemaining(
                                    e -> data.put(e.getKey(), e.getValue().asText()));
                    found.put(doc.path("metadata").path("name").asText(), data);
                }
            }
        }
        return found;
    }

    /**
     * A pod template's chainmerge container as a daemon: environment from env (secrets and field refs as
     * placeholders, after checking the Secret and key exist) and envFrom, the config file from the
     * ConfigMap mounted where --config points, the container port and the probes' paths.
     */
    static Daemon kubernetesDaemon(String where, JsonNode podSpec, List<String> problems) {
        JsonNode container = podSpec.path("containers").get(0);
        Map<String, Map<String, String>> configMaps = dataByName("ConfigMap");
        Map<String, Map<String, String>> secrets = dataByName("Secret");
        Map<String, String> env = new LinkedHashMap<>();
        container.path("envFrom").forEach(from -> {
            String name = from.path("configMapRef").path("name").asText();
            if (!configMaps.containsKey(name)) {
                problems.add(where + ": envFrom names ConfigMap " + name + ", which k8s/ does not hold");
            } else {
                env.putAll(configMaps.get(name));
            }
        });
        container.path("env").forEach(var -> {
            String name = var.path("name").asText();
            JsonNode secretRef = var.path("valueFrom").path("secretKeyRef");
            if (!secretRef.isMissingNode()) {
                String secret = secretRef.path("name").asText();
                String key = secretRef.path("key").asText();
                if (!secrets.containsKey(secret) || !secrets.get(secret).containsKey(key)) {
                    problems.add(where + ": " + name + " reads key " + key + " of Secret " + secret
                            + ", which k8s/ does not hold");
                }
                env.put(name, "from-a-secret");
            } else if (!var.path("valueFrom").isMissingNode()) {
                env.put(name, "node-1");
            } else {
                env.put(name, var.path("value").asText());
            }
        });
        List<String> args = list(container.path("args"));
        Map<String, Object> file = Map.of();
        int config = args.indexOf("--config");
        if (config >= 0) {
            Path inContainer = Path.of(args.get(config + 1));
            file = null;
            for (JsonNode mount : container.path("volumeMounts")) {
                if (Path.of(mount.path("mountPath").asText()).equals(inContainer.getParent())) {
                    for (JsonNode volume : podSpec.path("volumes")) {
                        if (volume.path("name")
                                .asText()
                                .equals(mount.path("name").asText())) {
                            String map = volume.path("configMap").path("name").asText();
                            String data = configMaps
                                    .getOrDefault(map, Map.of())
                                    .get(inContainer.getFileName().toString());
                            if (data != null) {
                                file = configFile(data);
                            }
                        }
                    }
                }
            }
            if (file == null) {
                problems.add(where + ": --config " + inContainer + " is no file of a mounted ConfigMap");
                file = Map.of();
            }
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        container
                .path("ports")
                .forEach(p -> ports.put(
                        p.path("name").asText(), p.path("containerPort").asInt()));
        List<String> paths = new ArrayList<>();
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            if (!get.isMissingNode()) {
                paths.add(get.path("path").asText());
                JsonNode port = get.path("port");
                if (port.isTextual() && !ports.containsKey(port.asText())) {
                    problems.add(where + ": " + probe + " names port " + port.asText() + ", which the container lacks");
                } else if (port.isInt() && !ports.containsValue(port.asInt())) {
                    problems.add(where + ": " + probe + " names port " + port.asInt() + ", which the container lacks");
                }
            }
        }
        Integer port = ports.isEmpty() ? null : ports.values().iterator().next();
        return new Daemon(where, args, env, file, port, paths);
    }

    /** The pool patch applied the way kustomize's strategic merge does for the parts chainmerge reads. */
    static JsonNode withPoolPatch(JsonNode daemonSet, JsonNode patch) {
        ObjectNode merged = daemonSet.deepCopy();
        ObjectNode spec = (ObjectNode) merged.path("spec").path("template").path("spec");
        JsonNode patchSpec = patch.path("spec").path("template").path("spec");
        patchSpec.path("nodeSelector").fields().forEachRemaining(e -> ((ObjectNode) spec.path("nodeSelector"))
                .set(e.getKey(), e.getValue()));
        mergeByName((com.fasterxml.jackson.databind.node.ArrayNode) spec.path("volumes"), patchSpec.path("volumes"));
        ObjectNode container = (ObjectNode) spec.path("containers").get(0);
        JsonNode patchContainer = patchSpec.path("containers").path(0);
        mergeByName((com.fasterxml.jackson.databind.node.ArrayNode) container.path("env"), patchContainer.path("env"));
        mergeByName(
                (com.fasterxml.jackson.databind.node.ArrayNode) container.path("volumeMounts"),
                patchContainer.path("volumeMounts"));
        return merged;
    }

    private static void mergeByName(com.fasterxml.jackson.databind.node.ArrayNode target, JsonNode additions) {
        for (JsonNode add : additions) {
            boolean replaced = false;
            for (int i = 0; i < target.size(); i++) {
                if (target.get(i).path("name").equals(add.path("name"))) {
                    target.set(i, add);
                    replaced = true;
                }
            }
            if (!replaced) {
                target.add(add);
            }
        }
    }

    /**
     * A worker pod's pool: the node label its DaemonSet selects equals its CHAINMERGE_POOL, and each of its
     * CHAINMERGE_VOLUMES is a mounted hostPath.
     */
    static List<String> poolProblems(String where, JsonNode daemonSet) {
        List<String> problems = new ArrayList<>();
        JsonNode spec = daemonSet.path("spec").path("template").path("spec");
        JsonNode container = spec.path("containers").get(0);
        Map<String, String> env = new LinkedHashMap<>();
        container
                .path("env")
                .forEach(v -> env.put(v.path("name").asText(), v.path("value").asText()));
        String label = spec.path("nodeSelector").path("chainmerge.io/pool").asText(null);
        if (label == null || !label.equals(env.get("CHAINMERGE_POOL"))) {
            problems.add(where + ": selects nodes of pool " + label + " but sets CHAINMERGE_POOL="
                    + env.get("CHAINMERGE_POOL"));
        }
        if (!"true"
                .equals(spec.path("nodeSelector")
                        .path("chainmerge.io/storage-host")
                        .asText(null))) {
            problems.add(where + ": does not select chainmerge.io/storage-host=true");
        }
        for (String volume : env.getOrDefault("CHAINMERGE_VOLUMES", "").split(",")) {
            String mountName = null;
            for (JsonNode mount : container.path("volumeMounts")) {
                if (mount.path("mountPath").asText().equals(volume.strip())) {
                    mountName = mount.path("name").asText();
                }
            }
            boolean hostPath = false;
            for (JsonNode v : spec.path("volumes")) {
                hostPath |= v.path("name").asText().equals(mountName) && v.has("hostPath");
            }
            if (!hostPath) {
                problems.add(where + ": volume root " + volume + " is not a mounted hostPath");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- Pod Security admission

    /** Pod Security Standards profiles, from strictest to loosest. */
    enum PodSecurityLevel {
        RESTRICTED,
        BASELINE,
        PRIVILEGED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The strictest profile a pod passes, and why it passes no stricter one. */
    record PodSecurity(PodSecurityLevel level, List<String> reasons) {}

    private static final Set<String> RESTRICTED_VOLUMES = Set.of(
            "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret");

    /**
     * The strictest Pod Security Standards profile a pod template's spec passes, for the controls
     * chainmerge's pods can meet: host namespaces, hostPath volumes, host ports and privileged containers
     * (baseline); volume types, non-root, privilege escalation, capabilities and seccomp (restricted).
     */
    static PodSecurity podSecurity(JsonNode podSpec) {
        List<String> privileged = new ArrayList<>();
        List<String> baseline = new ArrayList<>();
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
            if (podSpec.path(host).asBoolean()) {
                privileged.add(host);
            }
        }
        for (JsonNode volume : podSpec.path("volumes")) {
            if (volume.has("hostPath")) {
                privileged.add("hostPath volume " + volume.path("name").asText());
            } else if (volume.fieldNames().hasNext()) {
                List<String> types = new ArrayList<>();
                volume.fieldNames().forEachRemaining(types::add);
                types.remove("name");
                if (!RESTRICTED_VOLUMES.containsAll(types)) {
                    baseline.add("volume " + volume.path("name").asText() + " of type " + types);
                }
            }
        }
        JsonNode pod = podSpec.path("securityContext");
        for (JsonNode container : podSpec.path("containers")) {
            String name = container.path("name").asText();
            JsonNode context = container.path("securityContext");
            for (JsonNode port : container.path("ports")) {
                if (port.path("hostPort").asInt() > 0) {
                    privileged.add("hostPort " + port.path("hostPort").asInt() + " of " + name);
                }
            }
            if (context.path("privileged").asBoolean()) {
                privileged.add(name + " is privileged");
            }
            if (!context.path("runAsNonRoot").asBoolean(pod.path("runAsNonRoot").asBoolean())) {
                baseline.add(name + " may run as root (runAsNonRoot)");
            }
            if (context.path("allowPrivilegeEscalation").asBoolean(true)) {
                baseline.add(name + " allows privilege escalation");
            }
            if (!list(context.path("capabilities").path("drop")).contains("ALL")) {
                baseline.add(name + " does not drop ALL capabilities");
            }
            for (String added : list(context.path("capabilities").path("add"))) {
                if (!added.equals("NET_BIND_SERVICE")) {
                    baseline.add(name + " adds capability " + added);
                }
            }
            String seccomp = context.path("seccompProfile")
                    .path("type")
                    .asText(pod.path("seccompProfile").path("type").asText(""));
            if (!seccomp.equals("RuntimeDefault") && !seccomp.equals("Localhost")) {
                baseline.add(name + " has no RuntimeDefault seccomp profile");
            }
        }
        if (!privileged.isEmpty()) {
            return new PodSecurity(PodSecurityLevel.PRIVILEGED, privileged);
        }
        return baseline.isEmpty()
                ? new PodSecurity(PodSecurityLevel.RESTRICTED, List.of())
                : new PodSecurity(PodSecurityLevel.BASELINE, baseline);
    }

    /**
     * The namespace enforces a Pod Security profile that admits every pod of k8s/, and no looser one than
     * the most demanding pod needs; audit and warn, where set, name a profile.
     */
    static List<String> podSecurityProblems(String where, JsonNode namespace, Map<String, JsonNode> podSpecs) {
        List<String> problems = new ArrayList<>();
        JsonNode labels = namespace.path("metadata").path("labels");
        PodSecurityLevel needed = PodSecurityLevel.RESTRICTED;
        String neediest = null;
        for (var pod : podSpecs.entrySet()) {
            PodSecurity security = podSecurity(pod.getValue());
            if (security.level().compareTo(needed) > 0) {
                needed = security.level();
                neediest = pod.getKey() + " (" + String.join(", ", security.reasons()) + ")";
            }
        }
        for (String mode : List.of("enforce", "audit", "warn")) {
            String value = labels.path("pod-security.kubernetes.io/" + mode).asText(null);
            if (value == null) {
                if (mode.equals("enforce")) {
                    problems.add(where + ": no pod-security.kubernetes.io/enforce label");
                }
                continue;
            }
            PodSecurityLevel level;
            try {
                level = PodSecurityLevel.valueOf(value.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                problems.add(where + ": pod-security.kubernetes.io/" + mode + " " + value + " is no profile");
                continue;
            }
            if (mode.equals("enforce") && level.compareTo(needed) < 0) {
                problems.add(
                        where + ": enforces " + value + ", which rejects " + neediest + ": it needs " + needed.label());
            } else if (mode.equals("enforce") && level.compareTo(needed) > 0) {
                problems.add(
                        where + ": enforces " + value + ", looser than any pod here needs (" + needed.label() + ")");
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- NetworkPolicies

    /** A pod as NetworkPolicies see it: its labels, and which chainmerge daemon runs in it on what port. */
    record PolicyPod(String where, Map<String, String> labels, String component, int port) {}

    static PolicyPod policyPod(String where, JsonNode template) {
        Map<String, String> labels = new LinkedHashMap<>();
        template.path("metadata")
                .path("labels")
                .fields()
                .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        JsonNode container = template.path("spec").path("containers").get(0);
        return new PolicyPod(
                where,
                labels,
                container.path("args").path(0).asText(),
                container.path("ports").path(0).path("containerPort").asInt());
    }

    private static boolean selects(JsonNode selector, Map<String, String> labels) {
        boolean[] all = {true};
        selector.path("matchLabels")
                .fields()
                .forEachRemaining(e -> all[0] &= e.getValue().asText().equals(labels.get(e.getKey())));
        return all[0];
    }

    private static boolean allowsPort(JsonNode rule, String protocol, int port) {
        if (!rule.has("ports")) {
            return true;
        }
        for (JsonNode p : rule.path("ports")) {
            if (p.path("protocol").asText("TCP").equals(protocol)
                    && p.path("port").asInt() == port) {
                return true;
            }
        }
        return false;
    }

    /** The host:port list of every ConfigMap chainmerge-kafka in k8s/ (patches included): the ports pods dial. */
    static Set<Integer> kafkaPorts() {
        Set<Integer> ports = new java.util.TreeSet<>();
        for (String file : kubernetesFiles()) {
            for (JsonNode doc : documents(read(file))) {
                if (doc.path("kind").asText().equals("ConfigMap")
                        && doc.path("metadata").path("name").asText().equals("chainmerge-kafka")) {
                    for (String server : doc.path("data")
                            .path("CHAINMERGE_KAFKA_BOOTSTRAP_SERVERS")
                            .asText()
                            .split(",")) {
                        ports.add(Integer.parseInt(
                                server.substring(server.lastIndexOf(':') + 1).strip()));
                    }
                }
            }
        }
        return ports;
    }

    /**
     * Every chainmerge pod is selected by a policy for ingress and one for egress; the coordinator admits
     * clients (pods labelled chainmerge.io/client=true) on its port, a worker admits other workers on its
     * transfer port; every pod may reach DNS and every Kafka bootstrap port, and a worker other workers'
     * transfer port.
     */
    static List<String> networkPolicyProblems(List<JsonNode> policies, List<PolicyPod> pods, Set<Integer> kafkaPorts) {
        List<String> problems = new ArrayList<>();
        for (PolicyPod pod : pods) {
            List<JsonNode> ingress = new ArrayList<>();
            List<JsonNode> egress = new ArrayList<>();
            boolean ingressIsolated = false;
            boolean egressIsolated = false;
            for (JsonNode policy : policies) {
                if (!selects(policy.path("spec").path("podSelector"), pod.labels())) {
                    continue;
                }
                List<String> types = list(policy.path("spec").path("policyTypes"));
                if (types.contains("Ingress")) {
                    ingressIsolated = true;
                    policy.path("spec").path("ingress").forEach(ingress::add);
                }
                if (types.contains("Egress")) {
                    egressIsolated = true;
                    policy.path("spec").path("egress").forEach(egress::add);
                }
            }
            if (!ingressIsolated || !egressIsolated) {
                problems.add(pod.where() + ": no NetworkPolicy limits " + (ingressIsolated ? "" : "who reaches it")
                        + (ingressIsolated || egressIsolated ? "" : " or ")
                        + (egressIsolated ? "" : "what it reaches"));
                continue;
            }
            Map<String, String> from =
                    pod.component().equals("worker") ? pod.labels() : Map.of("chainmerge.io/client", "true");
            boolean admitted = ingress.stream()
                    .anyMatch(rule -> allowsPort(rule, "TCP", pod.port())
                            && (!rule.has("from")
                                    || java.util.stream.StreamSupport.stream(
                                                    rule.path("from").spliterator(), false)
                                            .anyMatch(peer -> peer.has("podSelector")
                                                    && selects(peer.path("podSelector"), from))));
            if (!admitted) {
                problems.add(pod.where() + ": no NetworkPolicy admits " + from + " on port " + pod.port() + " ("
                        + (pod.component().equals("worker")
                                ? "transfers between workers"
                                : "operators and backup systems")
                        + ")");
            }
            List<int[]> needed = new ArrayList<>();
            needed.add(new int[] {53});
            kafkaPorts.forEach(p -> needed.add(new int[] {p}));
            if (pod.component().equals("worker")) {
                needed.add(new int[] {pod.port()});
            }
            for (int[] port : needed) {
                String protocol = port[0] == 53 ? "UDP" : "TCP";
                if (egress.stream().noneMatch(rule -> allowsPort(rule, protocol, port[0]))) {
                    problems.add(pod.where() + ": no NetworkPolicy lets it reach " + protocol + " port " + port[0]
                            + (port[0] == 53
                                    ? " (DNS)"
                                    : kafkaPorts.contains(port[0]) ? " (Kafka)" : " (other workers)"));
                }
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------- Dockerfile

    /** Instructions of a Dockerfile: keyword and rest, continuation lines joined, comments dropped. */
    static List<String[]> dockerInstructions(String dockerfile) {
        List<String[]> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.split("\n")) {
            String stripped = line.strip();
            if (stripped.startsWith("#") || (stripped.isEmpty() && current.length() == 0)) {
                continue;
            }
            if (stripped.endsWith("\\")) {
                current.append(stripped, 0, stripped.length() - 1).append(' ');
                continue;
            }
            current.append(stripped);
            String text = current.toString().strip();
            current.setLength(0);
            if (!text.isEmpty()) {
                int space = text.indexOf(' ');
                instructions.add(new String[] {
                    text.substring(0, space).toUpperCase(java.util.Locale.ROOT),
                    text.substring(space + 1).strip()
                });
            }
        }
        return instructions;
    }

    /** One stage of a multi-stage Dockerfile: its base, its name (or null) and its instructions. */
    record DockerStage(String base, String name, List<String[]> instructions) {
        List<String> all(String keyword) {
            return instructions.stream()
                    .filter(i -> i[0].equals(keyword))
                    .map(i -> i[1])
                    .toList();
        }
    }

    static List<DockerStage> dockerStages(String dockerfile) {
        List<DockerStage> stages = new ArrayList<>();
        for (String[] instruction : dockerInstructions(dockerfile)) {
            if (instruction[0].equals("FROM")) {
                String[] words = instruction[1].split("\\s+");
                String name = words.length >= 3 && words[1].equalsIgnoreCase("AS") ? words[2] : null;
                stages.add(new DockerStage(words[0], name, new ArrayList<>()));
            } else if (!stages.isEmpty()) {
                stages.get(stages.size() - 1).instructions().add(instruction);
            }
        }
        return stages;
    }

    /**
     * Whether {@code .dockerignore} lets a path of the repository into the build context: the last pattern
     * that matches it decides ({@code *} and {@code NAME/} match a top-level entry and what is under it,
     * {@code **}{@code /NAME/} a folder of that name anywhere, {@code !} lets in again).
     */
    static boolean inContext(String dockerignore, String path) {
        boolean in = true;
        for (String line : dockerignore.split("\n")) {
            String pattern = line.strip();
            if (pattern.isEmpty() || pattern.startsWith("#")) {
                continue;
            }
            boolean include = pattern.startsWith("!");
            String p = (include ? pattern.substring(1) : pattern).replaceAll("/+$", "");
            boolean matches;
            if (p.equals("*")) {
                matches = true;
            } else if (p.startsWith("**/")) {
                matches = ("/" + path + "/").contains("/" + p.substring(3) + "/");
            } else {
                matches = path.equals(p) || path.startsWith(p + "/");
            }
            if (matches) {
                in = include;
            }
        }
        return in;
    }

    /**
     * The image builds from a clean clone on its own and runs what it built: a pinned JDK stage that gets
     * Maven by checksum, lets the whole reactor into the context (and no build output), runs {@code mvn
     * package} without the tests and unpacks the release archive; a pinned JRE stage that copies that folder
     * and whose entry point runs the jar the archive puts at its top, with lib/ and broker/ beside it (the
     * assembly descriptor says so). It exposes exactly the daemons' default ports, has a HEALTHCHECK on their
     * /health, carries its version and runs as the uid the manifests expect.
     */
    static List<String> dockerfileProblems(
            String dockerfile, String dockerignore, String assemblyDescriptor, List<String> modules, int uid) {
        List<String> problems = new ArrayList<>();
        List<DockerStage> stages = dockerStages(dockerfile);
        if (stages.size() < 2) {
            return List.of("Dockerfile: " + stages.size()
                    + " stage(s); it needs a Maven build stage and a runtime stage, so a clean clone builds");
        }
        DockerStage build = stages.get(0);
        DockerStage runtime = stages.get(stages.size() - 1);

        // The build stage.
        if (!build.base().matches("eclipse-temurin:17[0-9._]*-jdk-[a-z]+") || build.name() == null) {
            problems.add("Dockerfile: the build stage FROM " + build.base()
                    + " is not a named Java 17 JDK pinned by version (eclipse-temurin:17.x.y_z-jdk-DIST AS build)");
        }
        String maven = String.join(" ", build.all("ADD"));
        var mavenUrl = java.util.regex.Pattern.compile(
                        "--checksum=sha256:[0-9a-f]{64}\\s+https://repo\\.maven\\.apache\\.org/maven2/org/apache/maven/"
                                + "apache-maven/(3\\.(\\d+)\\.\\d+)/apache-maven-\\1-bin\\.tar\\.gz")
                .matcher(maven);
        if (!mavenUrl.find()) {
            problems.add("Dockerfile: the build stage does not ADD Maven from Maven Central with --checksum=sha256:…");
        } else if (Integer.parseInt(mavenUrl.group(2)) < 8) {
            problems.add("Dockerfile: Maven " + mavenUrl.group(1) + " is older than the 3.8 the build requires");
        }
        if (!build.all("COPY").contains(". /src") || !build.all("WORKDIR").contains("/src")) {
            problems.add("Dockerfile: the build stage must COPY . /src and build in WORKDIR /src");
        }
        List<String> needed = new ArrayList<>(List.of("pom.xml"));
        for (String module : modules) {
            needed.add(module + "/pom.xml");
            needed.add(module + "/src/main/java");
        }
        for (String file : List.of("LICENSE", "README.md", "CHANGELOG.md", "SECURITY.md", "docs/cli.md")) {
            if (assemblyDescriptor.contains("<include>" + file + "</include>") || file.startsWith("docs/")) {
                needed.add(file);
            }
        }
        for (String path : needed) {
            if (!inContext(dockerignore, path)) {
                problems.add(".dockerignore: keeps " + path + " out of the build context; the build stage needs it");
            }
        }
        for (String built : List.of("cli/target/chainmerge.jar", "common/target/classes")) {
            if (inContext(dockerignore, built)) {
                problems.add(".dockerignore: lets " + built
                        + " into the build context: a host's build output would make another image than a clean clone");
            }
        }
        String run = String.join(" && ", build.all("RUN"));
        var unpack = java.util.regex.Pattern.compile(
                        "tar xzf cli/target/chainmerge-\\*\\.tar\\.gz --strip-components=1 -C (\\S+)")
                .matcher(run);
        if (!run.matches("(?s).*mvn -B -ntp -DskipTests( \\S+)* package.*")) {
            problems.add("Dockerfile: the build stage does not run mvn -B -ntp -DskipTests … package");
        }
        String unpacked = unpack.find() ? unpack.group(1).replaceAll("/+$", "") : null;
        if (unpacked == null) {
            problems.add(
                    "Dockerfile: the build stage does not unpack cli/target/chainmerge-*.tar.gz (--strip-components=1 -C DIR)");
        }

        // The runtime stage.
        if (!runtime.base().matches("eclipse-temurin:17[0-9._]*-jre-[a-z]+")) {
            problems.add("Dockerfile: FROM " + runtime.base()
                    + " is not a Java 17 JRE pinned by version (eclipse-temurin:17.x.y_z-jre-DIST)");
        }
        String home = null;
        for (String copy : runtime.all("COPY")) {
            String[] words = copy.split("\\s+");
            if (copy.startsWith("--from=") && words.length == 3) {
                if (!words[0].equals("--from=" + build.name())
                        || unpacked == null
                        || !words[1].replaceAll("/+$", "").equals(unpacked)) {
                    problems.add("Dockerfile: COPY " + copy + " does not copy the build stage's unpacked archive, "
                            + unpacked);
                }
                home = words[2].replaceAll("/+$", "");
            } else {
                problems.add("Dockerfile: COPY " + copy
                        + " in the runtime stage: it should take only the build stage's archive");
            }
        }
        if (home == null) {
            problems.add("Dockerfile: the runtime stage copies nothing from the build stage");
        } else {
            String entrypoint = String.join(" ", runtime.all("ENTRYPOINT"));
            if (!entrypoint.contains("\"" + home + "/chainmerge.jar\"")) {
                problems.add("Dockerfile: ENTRYPOINT " + entrypoint + " does not run " + home + "/chainmerge.jar");
            }
        }
        problems.addAll(releaseLayoutProblems(assemblyDescriptor));

        Set<Integer> exposed = new java.util.TreeSet<>();
        for (String expose : runtime.all("EXPOSE")) {
            for (String port : expose.split("\\s+")) {
                exposed.add(Integer.parseInt(port.replace("/tcp", "")));
            }
        }
        Set<Integer> ports = new java.util.TreeSet<>(Set.of(
                (Integer) WorkerConfig.HTTP_PORT.defaultValue(), (Integer) CoordinatorConfig.HTTP_PORT.defaultValue()));
        if (!exposed.equals(ports)) {
            problems.add("Dockerfile: EXPOSE " + exposed + " but the daemons listen on " + ports);
        }
        String health = String.join(" ", runtime.all("HEALTHCHECK"));
        if (health.isEmpty()) {
            problems.add("Dockerfile: no HEALTHCHECK");
        } else if (!health.contains("/health") || ports.stream().anyMatch(p -> !health.contains(" " + p))) {
            problems.add("Dockerfile: HEALTHCHECK " + health + " does not ask /health on the daemons' ports " + ports);
        }
        String labels = String.join(" ", runtime.all("LABEL"));
        String version = "org.opencontainers.image.version=\"" + projectVersion() + "\"";
        if (!labels.contains(version)) {
            problems.add("Dockerfile: LABEL " + labels.strip() + " lacks " + version);
        }
        List<String> users = runtime.all("USER");
        String user = users.isEmpty() ? null : users.get(users.size() - 1);
        if (user == null || !user.equals(uid + ":" + uid)) {
            problems.add("Dockerfile: USER " + user + " but the manifests run as " + uid + ":" + uid);
        }
        return problems;
    }

    /**
     * The release archive (cli/src/assembly/release.xml) puts chainmerge.jar at its top with lib/ (the jar's
     * manifest class path) and broker/ (where {@code demo} looks for the broker) beside it, and bin/chainmerge.
     */
    static List<String> releaseLayoutProblems(String descriptor) {
        List<String> problems = new ArrayList<>();
        String compact = descriptor.replaceAll("\\s+", "");
        for (String[] expected : List.of(
                new String[] {
                    "${project.build.directory}/chainmerge.jar</source><outputDirectory>.</outputDirectory>",
                    "chainmerge.jar at its top"
                },
                new String[] {
                    "<directory>${project.build.directory}/lib</directory><outputDirectory>lib</outputDirectory>",
                    "lib/"
                },
                new String[] {
                    "<directory>${project.build.directory}/broker</directory><outputDirectory>broker</outputDirectory>",
                    "broker/"
                },
                new String[] {
                    "<source>src/dist/bin/chainmerge</source><outputDirectory>bin</outputDirectory>", "bin/chainmerge"
                })) {
            if (!compact.contains(expected[0])) {
                problems.add("cli/src/assembly/release.xml: the archive lacks " + expected[1]);
            }
        }
        return problems;
    }

    static List<String> reactorModules() {
        List<String> modules = new ArrayList<>();
        var matcher =
                java.util.regex.Pattern.compile("<module>([^<]+)</module>").matcher(read("pom.xml"));
        while (matcher.find()) {
            modules.add(matcher.group(1));
        }
        return modules;
    }

    /** Every {@code docker build -t IMAGE} a file shows names the image the manifests run. */
    static List<String> buildCommandProblems(String file, String text) {
        List<String> problems = new ArrayList<>();
        var matcher = java.util.regex.Pattern.compile("docker build -t (\\S+)").matcher(text);
        boolean found = false;
        while (matcher.find()) {
            found = true;
            if (!matcher.group(1).equals(expectedImage())) {
                problems.add(file + ": docker build -t " + matcher.group(1) + " is not " + expectedImage());
            }
        }
        if (!found) {
            problems.add(file + ": shows no docker build -t " + expectedImage());
        }
        return problems;
    }
}
