package io.chainmerge.worker.inuse;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.chainmerge.common.config.Config;
import io.chainmerge.common.config.ConfigDef;
import io.chainmerge.common.config.ConfigKey;
import io.chainmerge.common.config.ConfigType;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.inuse.InUseProbe;
import io.chainmerge.disk.inuse.NfsServerProbe;
import io.chainmerge.disk.inuse.OpenFilesProbe;
import io.chainmerge.disk.inuse.QuietPeriodProbe;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Which in-use probes a worker consults before it changes a chain, and what a blind probe means. */
public record InUseSettings(
        List<String> probes,
        Duration quiet,
        String command,
        Duration commandTimeout,
        boolean refuseWhenUnavailable,
        String sambaConfig,
        int retries) {

    public static final List<String> PROBE_NAMES = List.of(OpenFilesProbe.NAME, SambaProbe.NAME, NfsServerProbe.NAME);

    public static final ConfigKey PROBES = ConfigKey.optional(
            "in-use.probes",
            ConfigType.LIST,
            PROBE_NAMES,
            "what besides POSIX locks tells a chain is in use: open-files (local processes that have a file open), samba (SMB clients of this host's Samba), nfs (NFSv4 clients of this host's kernel NFS server)");
    public static final ConfigKey QUIET = ConfigKey.optional(
            "in-use.quiet",
            ConfigType.DURATION,
            Duration.ofMinutes(10),
            "a chain written to within this time is in use (writers without locks, such as VMs on other hosts); 0 turns it off");
    public static final ConfigKey COMMAND = ConfigKey.optional(
            "in-use.command",
            ConfigType.STRING,
            "",
            "a site's own probe: gets {\"files\": [...]} on stdin, answers {\"inUse\": bool, \"holder\": \"...\"}; empty for none");
    public static final ConfigKey COMMAND_TIMEOUT = ConfigKey.optional(
            "in-use.command-timeout",
            ConfigType.DURATION,
            Duration.ofSeconds(10),
            "how long in-use.command (and smbstatus) may take before the probe counts as unable to look");
    public static final ConfigKey UNAVAILABLE = ConfigKey.optional(
            "in-use.unavailable",
            ConfigType.STRING,
            "refuse",
            "a probe that cannot look (its tool fails or times out): refuse, or ignore it");
    public static final ConfigKey SAMBA_CONFIG = ConfigKey.optional(
            "in-use.samba-config", ConfigType.STRING, "", "the smb.conf smbstatus reads; empty for Samba's default");
    public static final ConfigKey RETRIES = ConfigKey.optional(
            "in-use.retries",
            ConfigType.INT,
            30,
            "how often a job waits 2 s for another chainmerge run that holds its chain (a delivery of it elsewhere, a claim"
                    + " of another host) before it gives up, freeing its slot");

    /** Every in-use key, in the order the worker's settings list them. */
    public static final List<ConfigKey> KEYS =
            List.of(PROBES, QUIET, COMMAND, COMMAND_TIMEOUT, UNAVAILABLE, SAMBA_CONFIG, RETRIES);

    public InUseSettings {
        probes = List.copyOf(probes);
        for (String probe : probes) {
            if (!PROBE_NAMES.contains(probe)) {
                throw new IllegalArgumentException(
                        "in-use.probes: unknown probe %s (known: %s)".formatted(probe, PROBE_NAMES));
            }
        }
        if (retries < 0) {
            throw new IllegalArgumentException("in-use.retries cannot be negative");
        }
        if (quiet.isNegative()) {
            throw new IllegalArgumentException("in-use.quiet cannot be negative");
        }
    }

    /** Settings from a map of these keys alone, as the command line builds them. */
    public static InUseSettings of(Map<String, ?> settings) {
        ConfigDef def = new ConfigDef("in-use", null, KEYS);
        return from(Config.resolve(def, settings, Map.of(), Map.of()));
    }

    public static InUseSettings from(Config config) {
        String unavailable = config.string(UNAVAILABLE);
        if (!unavailable.equals("refuse") && !unavailable.equals("ignore")) {
            throw new IllegalArgumentException("in-use.unavailable is refuse or ignore, not " + unavailable);
        }
        return new InUseSettings(
                config.list(PROBES),
                config.duration(QUIET),
                config.string(COMMAND),
                config.duration(COMMAND_TIMEOUT),
                unavailable.equals("refuse"),
                config.string(SAMBA_CONFIG),
                config.integer(RETRIES));
    }

    /** The probes these settings name, in the order they are consulted. */
    public InUseCheck check(ObjectMapper json, Clock clock) {
        // The most telling first: an SMB client and its user say more than "pid of smbd", which the
        // open-files probe would name for the same open (NFS clients' opens are the kernel's, no process's).
        List<InUseProbe> chosen = new ArrayList<>();
        if (probes.contains(SambaProbe.NAME)) {
            chosen.add(new SambaProbe(sambaConfig.isBlank() ? null : Path.of(sambaConfig), commandTimeout, json));
        }
        if (probes.contains(NfsServerProbe.NAME)) {
            chosen.add(new NfsServerProbe());
        }
        if (!command.isBlank()) {
            chosen.add(new HookProbe(command, commandTimeout, json));
        }
        if (probes.contains(OpenFilesProbe.NAME)) {
            chosen.add(new OpenFilesProbe());
        }
        if (!quiet.isZero()) {
            chosen.add(new QuietPeriodProbe(quiet, clock));
        }
        return new InUseCheck(chosen, refuseWhenUnavailable);
    }
}
