package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.Action;
import io.chainmerge.common.campaign.CampaignSpec.Orphans;
import io.chainmerge.common.campaign.CampaignSpec.Selection;
import io.chainmerge.common.campaign.CampaignSpec.SpacePolicy;
import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.ReserveSpec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.VolumeInventory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one place an inventory becomes merge jobs. Per chain, bottom-up: from the root up, the run of
 * single-child differencing disks that the selection picks (nearest the root first, stopping at the
 * first disk it does not pick) is what may be merged. Where a disk has several children the run stops
 * at it: its branches are reported as {@code siblings} and left alone, since merging any of them
 * would change the disk the others depend on. Orphans are reported (when selected), never merged.
 *
 * <p>Planning is deterministic: the same campaign and inventory give the same jobs with the same
 * ids, so a coordinator that restarts mid-plan plans again without duplicating anything.
 */
public final class Planner {
    private Planner() {}

    /**
     * A merge job, with the host and volume whose inventory it came from (for the limits).
     *
     * @param growthBytes at most what the merge adds to its destination: the file sizes of its sources
     *     (the worker computes the exact figure before it starts)
     */
    public record PlannedJob(MergeJob job, String host, String volume, long growthBytes) {}

    /**
     * @param jobs the merges to publish
     * @param skips the disks left alone
     * @param recoveries space recoveries planned up front: for merges on volumes already under their
     *     reserve (held back, the recovery stands in for them), and, when foreseen, for merges whose
     *     growth may not fit (published first: the recovery runs only if the worker refuses)
     */
    public record Plan(List<PlannedJob> jobs, List<CampaignSkip> skips, List<CampaignRecovery> recoveries) {}

    /** The plan a campaign runs: recoveries only for volumes under their reserve. */
    public static Plan plan(
            String campaignId, CampaignSpec spec, Map<String, List<VolumeInventory>> inventories, Instant now) {
        return plan(campaignId, spec, inventories, now, false);
    }

    /**
     * The plan, and with {@code foresee} also the recovery each merge would get if the worker refused it
     * for space, judged by its growth at most ({@code chainmerge campaign plan}).
     */
    public static Plan plan(
            String campaignId,
            CampaignSpec spec,
            Map<String, List<VolumeInventory>> inventories,
            Instant now,
            boolean foresee) {
        Plan merges = merges(campaignId, spec, inventories, now);
        if (spec.onInsufficientSpace() == SpacePolicy.REFUSE) {
            return merges;
        }
        List<VolumeInventory> fleet = new ArrayList<>();
        inventories.values().forEach(fleet::addAll);
        Map<String, VolumeInventory> byKey = new HashMap<>();
        fleet.forEach(v -> byKey.put(v.key(), v));
        Set<String> busyChains = new HashSet<>();
        merges.jobs().forEach(j -> busyChains.add(j.job().chain()));
        Map<String, Long> claimed = new HashMap<>();
        List<PlannedJob> published = new ArrayList<>();
        List<CampaignRecovery> recoveries = new ArrayList<>();
        for (PlannedJob planned : merges.jobs()) {
            VolumeInventory volume = byKey.get(planned.host() + ":" + planned.volume());
            long room = volume == null ? Long.MAX_VALUE : roomOn(volume, spec);
            boolean under = volume != null && volume.usableBytes() < reserveOn(volume, spec);
            String trigger = under ? "under-reserve" : foresee && planned.growthBytes() > room ? "may-not-fit" : null;
            if (!under) {
                published.add(planned);
            }
            if (trigger != null) {
                CampaignRecovery recovery = SpaceRecovery.plan(
                        campaignId,
                        spec,
                        new SpaceRecovery.Need(
                                planned, planned.job().pool(), trigger, planned.growthBytes(), Math.max(0, room)),
                        fleet,
                        claimed,
                        busyChains,
                        now);
                SpaceRecovery.claims(recovery).forEach((k, v) -> claimed.merge(k, v, Long::sum));
                recoveries.add(recovery);
            }
        }
        return new Plan(published, merges.skips(), recoveries);
    }

    /** Free space less the reserve: the campaign's {@code reserve} when it sets one, else the worker's. */
    static long roomOn(VolumeInventory volume, CampaignSpec spec) {
        return volume.usableBytes() - reserveOn(volume, spec);
    }

    static long reserveOn(VolumeInventory volume, CampaignSpec spec) {
        ReserveSpec reserve = spec.reserveSpec();
        return reserve == null
                ? volume.reserveBytes()
                : Math.min(reserve.bytes(), (long) (reserve.fraction() * volume.totalBytes()));
    }

    private static Plan merges(
            String campaignId, CampaignSpec spec, Map<String, List<VolumeInventory>> inventories, Instant now) {
        List<PlannedJob> jobs = new ArrayList<>();
        List<CampaignSkip> skips = new ArrayList<>();
        for (String pool : spec.pools()) {
            List<VolumeInventory> volumes = new ArrayList<>(inventories.getOrDefault(pool, List.of()));
            volumes.sort(Comparator.comparing(VolumeInventory::volume));
            for (VolumeInventory volume : volumes) {
                if (!spec.hosts().isEmpty() && !spec.hosts().contains(volume.host())) {
                    continue;
                }
                if (!spec.volumes().isEmpty() && spec.volumes().stream().noneMatch(v -> under(volume.volume(), v))) {
                    continue;
                }
                new VolumePlan(campaignId, spec, pool, volume, now, jobs, skips).run();
            }
        }
        return new Plan(jobs, skips, List.of());
    }

    private static boolean under(String path, String folder) {
        return Path.of(path).normalize().startsWith(Path.of(folder).normalize());
    }

    private static final class VolumePlan {
        private final String campaignId;
        private final CampaignSpec spec;
        private final Selection select;
        private final String pool;
        private final VolumeInventory volume;
        private final Instant now;
        private final List<PlannedJob> jobs;
        private final List<CampaignSkip> skips;
        private final Map<String, InventoryDisk> byPath = new HashMap<>();

        VolumePlan(
                String campaignId,
                CampaignSpec spec,
                String pool,
                VolumeInventory volume,
                Instant now,
                List<PlannedJob> jobs,
                List<CampaignSkip> skips) {
            this.campaignId = campaignId;
            this.spec = spec;
            this.select = spec.select();
            this.pool = pool;
            this.volume = volume;
            this.now = now;
            this.jobs = jobs;
            this.skips = skips;
            volume.disks().forEach(d -> byPath.put(d.path(), d));
        }

        void run() {
            List<InventoryDisk> disks = new ArrayList<>(volume.disks());
            disks.sort(Comparator.comparing(InventoryDisk::path));
            for (InventoryDisk disk : disks) {
                boolean topOfBrokenTree =
                        !disk.isRootDisk() && (disk.parent() == null || !byPath.containsKey(disk.parent()));
                if (disk.isRootDisk() && select.orphaned() != Orphans.ONLY) {
                    planChain(disk);
                } else if (topOfBrokenTree && select.orphaned() != Orphans.EXCLUDE) {
                    reportBroken(disk);
                }
            }
        }

        private void planChain(InventoryDisk root) {
            List<InventoryDisk> line = new ArrayList<>();
            InventoryDisk at = root;
            while (at.children().size() == 1 && byPath.containsKey(at.children().get(0))) {
                at = byPath.get(at.children().get(0));
                line.add(at);
            }
            if (maxDepth(root) <= select.deeperThan()) {
                return;
            }
            List<InventoryDisk> picked = new ArrayList<>();
            for (InventoryDisk disk : line) {
                if (!isSelected(disk)) {
                    break;
                }
                picked.add(disk);
            }
            if (at.children().size() > 1) {
                for (String branch : at.children()) {
                    InventoryDisk top = byPath.get(branch);
                    if (top != null && anySelected(top)) {
                        skip(
                                branch,
                                "siblings",
                                "%s has %d children (%s): merging this branch would orphan the others; it is left as it is"
                                        .formatted(
                                                at.path(),
                                                at.children().size(),
                                                String.join(", ", names(at.children()))));
                    }
                }
            }
            if (picked.isEmpty()) {
                return;
            }
            Action action = spec.action();
            InventoryDisk child = action == Action.MERGE_ONE_LEVEL ? picked.get(0) : picked.get(picked.size() - 1);
            String destination = action == Action.MERGE_TO_ROOT && picked.size() > 1 ? root.path() : null;
            String intoNew = action == Action.FLATTEN ? spec.flattenTarget(root.path()) : null;
            MergeJob job = new MergeJob(
                    Schema.VERSION,
                    jobId(child.path()),
                    campaignId,
                    pool,
                    now,
                    root.path(),
                    child.path(),
                    destination,
                    intoNew,
                    intoNew == null ? null : "dynamic",
                    spec.dryRun(),
                    spec.rateBytesPerSecond(),
                    spec.reserveSpec(),
                    spec.mergeWindows());
            List<InventoryDisk> sources = action == Action.MERGE_ONE_LEVEL ? picked.subList(0, 1) : picked;
            long growth = sources.stream().mapToLong(InventoryDisk::fileSize).sum();
            jobs.add(new PlannedJob(job, volume.host(), volume.volume(), growth));
        }

        private void reportBroken(InventoryDisk top) {
            if (!anySelected(top) && !select.nameMatches(top.path())) {
                return;
            }
            String reason =
                    switch (top.link()) {
                        case "MODIFIED_PARENT" -> "orphaned";
                        case "MISSING_PARENT" -> "missing-parent";
                        default -> "invalid-chain";
                    };
            String problem =
                    top.linkProblem() == null ? top.link().toLowerCase(java.util.Locale.ROOT) : top.linkProblem();
            skip(top.path(), reason, top.path() + ": " + problem + "; orphans are reported, never merged");
        }

        private boolean isSelected(InventoryDisk disk) {
            if (!disk.type().equals("DIFFERENCING") || !select.nameMatches(disk.path())) {
                return false;
            }
            return disk.modifiedAt() == null
                    || !disk.modifiedAt().plus(select.olderThanDuration()).isAfter(now);
        }

        private boolean anySelected(InventoryDisk top) {
            if (isSelected(top)) {
                return true;
            }
            for (String child : top.children()) {
                InventoryDisk disk = byPath.get(child);
                if (disk != null && anySelected(disk)) {
                    return true;
                }
            }
            return false;
        }

        private int maxDepth(InventoryDisk disk) {
            int deepest = disk.depth();
            for (String child : disk.children()) {
                InventoryDisk below = byPath.get(child);
                if (below != null) {
                    deepest = Math.max(deepest, maxDepth(below));
                }
            }
            return deepest;
        }

        private void skip(String disk, String reason, String message) {
            skips.add(new CampaignSkip(
                    Schema.VERSION, campaignId, null, now, pool, volume.host(), disk, reason, message));
        }

        private String jobId(String child) {
            try {
                byte[] hash = MessageDigest.getInstance("SHA-256")
                        .digest((pool + "|" + child).getBytes(StandardCharsets.UTF_8));
                return campaignId + "-m-" + HexFormat.of().formatHex(hash, 0, 8);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        private static List<String> names(List<String> paths) {
            return paths.stream().map(p -> Path.of(p).getFileName().toString()).toList();
        }
    }
}
