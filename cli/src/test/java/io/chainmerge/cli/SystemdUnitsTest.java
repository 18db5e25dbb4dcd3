package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.chainmerge.cli.DeploymentChecks.Daemon;
import io.chainmerge.common.config.Config;
import io.chainmerge.worker.WorkerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The systemd units and example settings the release archive ships (cli/src/dist): each unit runs the
 * command it is named after with the settings file and secrets file the archive shows, as the dedicated
 * user, hardened, restarted on failure; the worker's unit may write exactly its volume roots; and the
 * examples resolve as the daemons resolve them. Each check is also fed a wrong copy. (The archive itself,
 * unpacked and run, and {@code systemd-analyze verify}: ReleaseArchiveIT.)
 */
class SystemdUnitsTest {
    static final String DIST = "cli/src/dist/";
    static final List<String> ROLES = List.of("worker", "coordinator");

    /** What every unit must say, in [Service]: the user, the restart policy and the hardening. */
    static final Map<String, String> REQUIRED = Map.ofEntries(
            Map.entry("User", "chainmerge"),
            Map.entry("Group", "chainmerge"),
            Map.entry("Restart", "on-failure"),
            // systemctl reload: the daemons read their certificates, keys and principals again on SIGHUP.
            Map.entry("ExecReload", "/bin/kill -HUP $MAINPID"),
            Map.entry("NoNewPrivileges", "yes"),
            Map.entry("ProtectSystem", "strict"),
            Map.entry("ProtectHome", "yes"),
            Map.entry("PrivateTmp", "yes"),
            Map.entry("PrivateDevices", "yes"),
            Map.entry("CapabilityBoundingSet", ""),
            Map.entry("RestrictSUIDSGID", "yes"));

    @Test
    void eachUnitRunsItsDaemonAsTheDedicatedUserHardenedAndRestartedOnFailure() {
        List<String> problems = new ArrayList<>();
        for (String role : ROLES) {
            problems.addAll(unitProblems(role, DeploymentChecks.read(unitFile(role)), exampleVolumes()));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void aUnitThatDropsAHardeningLineRunsAnotherCommandOrMissesAVolumeIsCaught() {
        String worker = DeploymentChecks.read(unitFile("worker"));
        List<String> volumes = exampleVolumes();
        assertThat(unitProblems("worker", worker.replace("NoNewPrivileges=yes\n", ""), volumes))
                .anySatisfy(p -> assertThat(p).contains("NoNewPrivileges is missing (must be yes)"));
        assertThat(unitProblems("worker", worker.replace("ProtectSystem=strict", "ProtectSystem=full"), volumes))
                .anySatisfy(p -> assertThat(p).contains("ProtectSystem is full, not strict"));
        assertThat(unitProblems(
                        "worker",
                        worker.replace("ReadWritePaths=/srv/vol1 /srv/vol2", "ReadWritePaths=/srv/vol1"),
                        volumes))
                .anySatisfy(p -> assertThat(p)
                        .contains("may write [/srv/vol1] but the worker's volumes are [/srv/vol1, /srv/vol2]"));
        assertThat(unitProblems("worker", worker.replace("worker --config", "worker --confg"), volumes))
                .anySatisfy(p -> assertThat(p).contains("--confg"));
        assertThat(unitProblems(
                        "worker", worker.replace("bin/chainmerge worker", "bin/chainmerge coordinator"), volumes))
                .anySatisfy(p -> assertThat(p).contains("runs coordinator, not worker"));
        assertThat(unitProblems("worker", worker.replace("ExecReload=/bin/kill -HUP $MAINPID\n", ""), volumes))
                .anySatisfy(p -> assertThat(p).contains("ExecReload is missing"));
        assertThat(unitProblems("worker", worker.replace("Restart=on-failure", "Restart=no"), volumes))
                .anySatisfy(p -> assertThat(p).contains("Restart is no, not on-failure"));
        assertThat(unitProblems("worker", worker.replace("TimeoutStopSec=60s", "TimeoutStopSec=10s"), volumes))
                .anySatisfy(p -> assertThat(p).contains("TimeoutStopSec 10s is shorter than shutdown.grace"));
    }

    @Test
    void theExampleSettingsAndSecretsResolveAsTheDaemonsResolveThem() {
        List<String> problems = new ArrayList<>();
        for (String role : ROLES) {
            problems.addAll(DeploymentChecks.settingsProblems(exampleDaemon(role, exampleEnvironment(role))));
        }
        assertThat(problems).isEmpty();

        Map<String, String> misspelt = new LinkedHashMap<>(exampleEnvironment("worker"));
        misspelt.put("CHAINMERGE_TRANSFER_TOKN", "x");
        assertThat(DeploymentChecks.settingsProblems(exampleDaemon("worker", misspelt)))
                .anySatisfy(p -> assertThat(p).contains("CHAINMERGE_TRANSFER_TOKN"));
    }

    // ---------------------------------------------------------------- checks, shared with ReleaseArchiveIT

    static String unitFile(String role) {
        return DIST + "systemd/chainmerge-" + role + ".service";
    }

    /** A unit's [Section] Key=value lines (comments dropped, repeated keys joined by a space). */
    static Map<String, String> section(String unit, String name) {
        Map<String, String> entries = new LinkedHashMap<>();
        String current = null;
        for (String raw : unit.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                current = line.substring(1, line.length() - 1);
            } else if (name.equals(current) && line.contains("=")) {
                String key = line.substring(0, line.indexOf('=')).strip();
                String value = line.substring(line.indexOf('=') + 1).strip();
                entries.merge(key, value, (a, b) -> (a + " " + b).strip());
            }
        }
        return entries;
    }

    static List<String> unitProblems(String role, String unit, List<String> workerVolumes) {
        String where = "chainmerge-" + role + ".service";
        List<String> problems = new ArrayList<>();
        Map<String, String> service = section(unit, "Service");
        REQUIRED.forEach((key, value) -> {
            String actual = service.get(key);
            if (actual == null) {
                problems.add(where + ": " + key + " is missing (must be " + value + ")");
            } else if (!value.equals(actual)) {
                problems.add(where + ": " + key + " is " + actual + ", not " + value);
            }
        });
        List<String> exec = Arrays.asList(service.getOrDefault("ExecStart", "").split("\\s+"));
        if (!exec.get(0).equals("/opt/chainmerge/bin/chainmerge")) {
            problems.add(
                    where + ": ExecStart runs " + exec.get(0) + ", not the release's /opt/chainmerge/bin/chainmerge");
        }
        List<String> args = exec.subList(1, exec.size());
        if (args.isEmpty() || !args.get(0).equals(role)) {
            problems.add(where + ": ExecStart runs " + (args.isEmpty() ? "nothing" : args.get(0)) + ", not " + role);
        }
        problems.addAll(DeploymentChecks.commandProblems(where, args));
        int config = args.indexOf("--config");
        if (config < 0
                || config + 1 >= args.size()
                || !args.get(config + 1).equals("/etc/chainmerge/" + role + ".yaml")) {
            problems.add(where + ": ExecStart does not read /etc/chainmerge/" + role + ".yaml, the file conf/" + role
                    + ".yaml shows");
        }
        if (!("-/etc/chainmerge/" + role + ".env").equals(service.get("EnvironmentFile"))) {
            problems.add(where + ": EnvironmentFile is " + service.get("EnvironmentFile") + ", not -/etc/chainmerge/"
                    + role + ".env (conf/" + role + ".env)");
        }
        Set<String> writable = new TreeSet<>();
        String paths = service.get("ReadWritePaths");
        if (paths != null) {
            writable.addAll(Arrays.asList(paths.split("\\s+")));
        }
        Set<String> expected = role.equals("worker") ? new TreeSet<>(workerVolumes) : Set.of();
        if (!writable.equals(expected)) {
            problems.add(where + ": may write " + writable + " but the " + role + "'s volumes are " + expected);
        }
        if (role.equals("worker")) {
            Duration grace = Config.resolve(WorkerConfig.DEF, exampleFile("worker"), Map.of(), Map.of())
                    .duration(WorkerConfig.SHUTDOWN_GRACE);
            String stop = service.getOrDefault("TimeoutStopSec", "90s");
            if (seconds(stop) <= grace.toSeconds()) {
                problems.add(where + ": TimeoutStopSec " + stop + " is shorter than shutdown.grace ("
                        + grace.toSeconds() + " s) plus the resumable stop of a merge");
            }
        }
        if (!"multi-user.target".equals(section(unit, "Install").get("WantedBy"))) {
            problems.add(where + ": not WantedBy=multi-user.target");
        }
        return problems;
    }

    private static long seconds(String systemdTime) {
        if (systemdTime.endsWith("min")) {
            return Long.parseLong(systemdTime.replace("min", "")) * 60;
        }
        return Long.parseLong(systemdTime.replace("s", ""));
    }

    static Map<String, Object> exampleFile(String role) {
        return DeploymentChecks.configFile(DeploymentChecks.read(DIST + "conf/" + role + ".yaml"));
    }

    @SuppressWarnings("unchecked")
    static List<String> exampleVolumes() {
        return (List<String>) exampleFile("worker").get("volumes");
    }

    /** The example secrets file with its commented settings switched on, as an operator fills it in. */
    static Map<String, String> exampleEnvironment(String role) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String line : DeploymentChecks.read(DIST + "conf/" + role + ".env").split("\n")) {
            String setting = line.startsWith("#CHAINMERGE_") ? line.substring(1) : line;
            if (setting.startsWith("CHAINMERGE_") && setting.contains("=")) {
                env.put(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
            }
        }
        return env;
    }

    static Daemon exampleDaemon(String role, Map<String, String> env) {
        return new Daemon(
                "cli/src/dist/conf/" + role + ".yaml",
                List.of(role, "--config", "/etc/chainmerge/" + role + ".yaml"),
                env,
                exampleFile(role),
                null,
                List.of());
    }
}
