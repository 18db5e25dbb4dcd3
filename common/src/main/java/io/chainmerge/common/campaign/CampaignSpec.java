package io.chainmerge.common.campaign;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import io.chainmerge.common.DataSize;
import io.chainmerge.common.config.ConfigType;
import io.chainmerge.common.message.MergeWindows;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.List;

/**
 * What a campaign does, as an operator writes it (YAML or JSON; {@code docs/campaigns.md}).
 *
 * @param name a label for people
 * @param pools the pools to work on (each is space-checked first)
 * @param hosts only disks the named workers reported; empty for every host
 * @param volumes only disks under these volume roots; empty for every volume
 * @param select which disks are merged
 * @param action what is done with each chain's selected disks
 * @param flattenTo for {@code flatten}: the new file, with {@code {dir}}, {@code {name}} (the root's
 *     name without extension) and {@code {ext}}; default {@code {dir}/{name}-flat.{ext}}
 * @param limits how many merges run at once
 * @param rate the most bytes per second for each merge, e.g. {@code 200MiB/s}; null for the workers'
 *     setting
 * @param reserve space each merge must leave free, e.g. {@code 2GiB} or {@code 5%}; null for the
 *     workers' setting
 * @param dryRun check and plan every merge, change nothing
 * @param scanTimeout how long to wait for a pool's space check before reporting it unreachable
 * @param onInsufficientSpace what happens to a merge refused for space (or planned on a volume already
 *     under its reserve): {@code refuse} (reported, the default), {@code transplant} (a recovery is
 *     planned and run) or {@code ask} (a recovery is planned and waits for an operator's approval)
 * @param transplantTo where a recovery may move disks; null for any volume of the campaign's pools
 * @param moveBack after a recovery's merge, move the merged result back where it was
 * @param windows when merges and transplants may run, e.g. {@code ["Mon-Fri 22:00-06:00", "Sat-Sun"]}
 *     ({@link MergeWindows}); none for any time. Outside them nothing heavy is published, and a merge
 *     running at a window's end stops resumably and finishes in the next
 * @param timeZone the zone of {@code windows}, e.g. {@code Europe/Paris}; null for UTC
 */
public record CampaignSpec(
        String name,
        List<String> pools,
        List<String> hosts,
        List<String> volumes,
        Selection select,
        Action action,
        String flattenTo,
        Limits limits,
        String rate,
        String reserve,
        Boolean dryRun,
        String scanTimeout,
        SpacePolicy onInsufficientSpace,
        TransplantTargets transplantTo,
        Boolean moveBack,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> windows,
        @JsonInclude(JsonInclude.Include.NON_NULL) String timeZone) {

    /** A spec whose merges run any time. */
    public CampaignSpec(
            String name,
            List<String> pools,
            List<String> hosts,
            List<String> volumes,
            Selection select,
            Action action,
            String flattenTo,
            Limits limits,
            String rate,
            String reserve,
            Boolean dryRun,
            String scanTimeout,
            SpacePolicy onInsufficientSpace,
            TransplantTargets transplantTo,
            Boolean moveBack) {
        this(
                name,
                pools,
                hosts,
                volumes,
                select,
                action,
                flattenTo,
                limits,
                rate,
                reserve,
                dryRun,
                scanTimeout,
                onInsufficientSpace,
                transplantTo,
                moveBack,
                null,
                null);
    }

    public CampaignSpec {
        if (pools == null || pools.isEmpty()) {
            throw new IllegalArgumentException("pools: name at least one pool");
        }
        pools = List.copyOf(pools);
        pools.forEach(p -> Schema.poolName(p, "pools[]"));
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        select = select == null ? Selection.ALL : select;
        action = action == null ? Action.MERGE_TO_ROOT : action;
        limits = limits == null ? Limits.DEFAULT : limits;
        dryRun = dryRun != null && dryRun;
        if (rate != null) {
            DataSize.parse(rate);
        }
        if (reserve != null) {
            ReserveSpec.parse(reserve);
        }
        if (scanTimeout != null) {
            ConfigType.parseDuration(scanTimeout);
        }
        if (flattenTo != null && !flattenTo.contains("{name}") && !flattenTo.startsWith("/")) {
            throw new IllegalArgumentException("flattenTo must be absolute or contain {name}: " + flattenTo);
        }
        onInsufficientSpace = onInsufficientSpace == null ? SpacePolicy.REFUSE : onInsufficientSpace;
        moveBack = moveBack != null && moveBack;
        // The default targets (ANY) are what a spec without transplantTo is written back as: reading it again
        // must not take them for a setting, or a restarted coordinator could not replay its own campaigns.
        boolean targets = transplantTo != null && !transplantTo.equals(TransplantTargets.ANY);
        if (onInsufficientSpace == SpacePolicy.REFUSE && (targets || moveBack)) {
            throw new IllegalArgumentException(
                    "transplantTo and moveBack apply only when onInsufficientSpace is transplant or ask");
        }
        if (onInsufficientSpace != SpacePolicy.REFUSE && action == Action.FLATTEN) {
            throw new IllegalArgumentException("onInsufficientSpace: " + onInsufficientSpace.wireName()
                    + " recovers merges in place; a flatten changes no source, point flattenTo at a volume with room");
        }
        transplantTo = transplantTo == null ? TransplantTargets.ANY : transplantTo;
        windows = windows == null ? List.of() : List.copyOf(windows);
        MergeWindows.of(windows, timeZone); // refuses a window or zone it cannot read
    }

    /** When the campaign's merges may run; null for any time. */
    @JsonIgnore
    public MergeWindows mergeWindows() {
        return MergeWindows.of(windows, timeZone);
    }

    /** What a campaign does with a merge that does not fit on its volume. */
    public enum SpacePolicy {
        /** Report the refusal (the default). */
        REFUSE("refuse"),
        /** Plan a recovery (move disks to a volume with room, merge there) and run it. */
        TRANSPLANT("transplant"),
        /** Plan a recovery and wait for an operator to approve it. */
        ASK("ask");

        private final String wireName;

        SpacePolicy(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }

    /**
     * Where a recovery may move disks. A volume qualifies when its pool is listed (or the list is
     * empty: the campaign's pools) and it is one of the listed volume roots or folders (or that list is
     * empty). Pools listed here that the campaign does not merge in are space-checked too.
     *
     * @param pools pools whose volumes may receive disks; empty for the campaign's pools
     * @param volumes volume roots (or folders holding them) that may receive disks; empty for any
     */
    public record TransplantTargets(List<String> pools, List<String> volumes) {
        public static final TransplantTargets ANY = new TransplantTargets(List.of(), List.of());

        public TransplantTargets {
            pools = pools == null ? List.of() : List.copyOf(pools);
            volumes = volumes == null ? List.of() : List.copyOf(volumes);
            pools.forEach(p -> Schema.poolName(p, "transplantTo.pools[]"));
            for (String volume : volumes) {
                if (volume == null || !volume.startsWith("/")) {
                    throw new IllegalArgumentException("transplantTo.volumes[] must be absolute paths: " + volume);
                }
            }
        }
    }

    /** Every pool the campaign space-checks: its own, then the recovery targets it names. */
    @JsonIgnore
    public List<String> scannedPools() {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(pools);
        all.addAll(transplantTo.pools());
        return List.copyOf(all);
    }

    /** Whether a volume of {@code pool} may receive a recovery's disks. */
    public boolean mayReceive(String pool, String volume) {
        List<String> targetPools = transplantTo.pools().isEmpty() ? pools : transplantTo.pools();
        if (!targetPools.contains(pool)) {
            return false;
        }
        return transplantTo.volumes().isEmpty()
                || transplantTo.volumes().stream().anyMatch(v -> Path.of(volume)
                        .normalize()
                        .startsWith(Path.of(v).normalize()));
    }

    /** What is done with the selected disks of each chain. */
    public enum Action {
        /** Merge the selected levels into the chain's root in one pass. */
        MERGE_TO_ROOT("merge-to-root"),
        /** Merge only the lowest selected level into the root: the chain loses one level. */
        MERGE_ONE_LEVEL("merge-one-level"),
        /** Flatten the chain into a new standalone disk; every source stays as it is. */
        FLATTEN("flatten");

        private final String wireName;

        Action(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }

    /** What the campaign does about orphaned disks (missing or modified parent): they are never merged. */
    public enum Orphans {
        /** Report every selected orphan as skipped, beside the merges (the default). */
        REPORT("report"),
        /** Leave orphans out of the report. */
        EXCLUDE("exclude"),
        /** Report orphans only; merge nothing. */
        ONLY("only");

        private final String wireName;

        Orphans(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }

    /**
     * Which differencing disks are merged.
     *
     * @param glob a file-name pattern such as {@code *.avhdx}; null for any name
     * @param olderThan only disks not modified for this long, e.g. {@code 2d}; null for any age
     * @param deeperThan only chains with more levels than this (the root counts); 0 for any
     * @param orphaned whether selected orphans are reported, left out, or the only thing reported
     */
    public record Selection(String glob, String olderThan, Integer deeperThan, Orphans orphaned) {
        public static final Selection ALL = new Selection(null, null, 0, Orphans.REPORT);

        public Selection {
            if (glob != null) {
                FileSystems.getDefault().getPathMatcher("glob:" + glob);
            }
            if (olderThan != null) {
                ConfigType.parseDuration(olderThan);
            }
            deeperThan = deeperThan == null ? 0 : deeperThan;
            if (deeperThan < 0) {
                throw new IllegalArgumentException("select.deeperThan cannot be negative");
            }
            orphaned = orphaned == null ? Orphans.REPORT : orphaned;
        }

        /** Whether a file's name matches {@link #glob()}. */
        public boolean nameMatches(String path) {
            if (glob == null) {
                return true;
            }
            PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            Path file = Path.of(path);
            return matcher.matches(file.getFileName()) || matcher.matches(file);
        }

        @JsonIgnore
        public Duration olderThanDuration() {
            return olderThan == null ? Duration.ZERO : ConfigType.parseDuration(olderThan);
        }
    }

    /**
     * How many merges run at once; 0 means no limit.
     *
     * @param perVolume merges at once on one volume (default 1: merges are I/O storms)
     * @param perPool merges at once in one pool
     * @param overall merges at once in the campaign
     */
    public record Limits(Integer perVolume, Integer perPool, Integer overall) {
        public static final Limits DEFAULT = new Limits(1, 0, 0);

        public Limits {
            perVolume = perVolume == null ? 1 : perVolume;
            perPool = perPool == null ? 0 : perPool;
            overall = overall == null ? 0 : overall;
            if (perVolume < 0 || perPool < 0 || overall < 0) {
                throw new IllegalArgumentException("limits cannot be negative");
            }
            perVolume = perVolume == 0 ? 1 : perVolume;
        }
    }

    @JsonIgnore
    public long rateBytesPerSecond() {
        return rate == null ? 0 : DataSize.parse(rate);
    }

    @JsonIgnore
    public ReserveSpec reserveSpec() {
        return reserve == null ? null : ReserveSpec.parse(reserve);
    }

    @JsonIgnore
    public Duration scanTimeoutDuration() {
        return scanTimeout == null ? Duration.ofMinutes(5) : ConfigType.parseDuration(scanTimeout);
    }

    /** The new file of a flatten of the chain rooted at {@code root}. */
    public String flattenTarget(String root) {
        Path rootPath = Path.of(root);
        String fileName = rootPath.getFileName().toString();
        int dot = fileName.lastIndexOf('.');
        String base = dot > 0 ? fileName.substring(0, dot) : fileName;
        String ext = dot > 0 ? fileName.substring(dot + 1) : "vhdx";
        String pattern = flattenTo == null ? "{dir}/{name}-flat.{ext}" : flattenTo;
        return pattern.replace("{dir}", rootPath.getParent().toString())
                .replace("{name}", base)
                .replace("{ext}", ext);
    }
}
