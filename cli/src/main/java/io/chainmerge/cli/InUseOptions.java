package io.chainmerge.cli;

import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.worker.inuse.InUseSettings;
import java.time.Clock;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * What besides POSIX locks a command that changes a chain asks before it writes: local processes that
 * have a file open, SMB clients of this host's Samba and NFSv4 clients of its kernel NFS server always; a quiet period and the site's own probe
 * when asked for. The worker's in-use.* settings, for one command.
 */
final class InUseOptions {
    @Option(
            names = "--quiet-period",
            paramLabel = "DURATION",
            description =
                    "a file written within this time counts as in use (a VM on another host writes without locks), e.g. 10m; default 0s, off")
    String quietPeriod = "0s";

    @Option(
            names = "--in-use-command",
            paramLabel = "COMMAND",
            description =
                    "the site's own probe: gets {\"files\": [...]} on stdin, answers {\"inUse\": true|false, \"holder\": \"...\"}")
    String command = "";

    @Option(
            names = "--if-probe-fails",
            paramLabel = "refuse|ignore",
            description = "when a probe cannot look (smbstatus or the command fails): refuse (default) or go on")
    String unavailable = "refuse";

    @Option(
            names = "--samba-config",
            paramLabel = "FILE",
            description = "the smb.conf of this host's Samba, when it is not Samba's default")
    String sambaConfig = "";

    InUseCheck check() {
        return InUseSettings.of(Map.of(
                        InUseSettings.PROBES.name(), InUseSettings.PROBE_NAMES,
                        InUseSettings.QUIET.name(), quietPeriod,
                        InUseSettings.COMMAND.name(), command,
                        InUseSettings.UNAVAILABLE.name(), unavailable,
                        InUseSettings.SAMBA_CONFIG.name(), sambaConfig))
                .check(ChainmergeCommand.JSON.mapper(), Clock.systemUTC());
    }
}
