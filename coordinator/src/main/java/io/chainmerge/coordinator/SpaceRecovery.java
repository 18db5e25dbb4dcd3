package io.chainmerge.coordinator;

import io.chainmerge.common.DataSize;
import io.chainmerge.common.campaign.CampaignRecovery;
import io.chainmerge.common.campaign.CampaignRecovery.Step;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpec.SpacePolicy;
import io.chainmerge.common.campaign.RecoveryStatus;
import io.chainmerge.common.message.InventoryDisk;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantSource;
import io.chainmerge.common.message.VolumeInventory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one place a merge that does not fit becomes a recovery plan: which disks move, where, and the
 * merge that follows there. Pure: from the campaign's spec, the space checks' inventories and the room
 * other recoveries of the campaign already count on.
 *
 * <p>The choices, in order:
 *
 * <ol>
 *   <li><b>Move the destination</b> (the disk the merge grows) to another volume of the same worker with
 *       room for it plus the growth: the child stays and is re-pointed at it, the merge reads across
 *       volumes. Cheapest: only the destination's bytes move.
 *   <li><b>Move the whole chain</b> to a volume of another worker (the same pool first, then others):
 *       a merge runs on one worker, so both sides must be there. Refused when the chain has branches (a
 *       move across workers would leave a child behind).
 *   <li><b>Make room</b>: move other chains off the full volume, the largest first, until the shortfall
 *       is covered; the merge then runs where it was.
 * </ol>
 *
 * Among volumes of a tier, the one with the most room wins. A volume's room is its free space less its
 * reserve (the campaign's {@code reserve} if set, else the worker's) less what the campaign's other
 * recoveries have claimed there. The workers check everything again (the transplant's preflight on the
 * target, the merge's space guard), so a stale inventory costs a refusal, never an ENOSPC.
 */
final class SpaceRecovery {
    private SpaceRecovery() {}

    /** A merge that needs room, where it was planned and what it needs. */
    record Need(Planner.PlannedJob merge, String pool, String trigger, long requiredBytes, long availableBytes) {}

    static CampaignRecovery plan(
            String campaignId,
            CampaignSpec spec,
            Need need,
            List<VolumeInventory> fleet,
            Map<String, Long> claimed,
            Set<String> busyChains,
            Instant now) {
        MergeJob merge = need.merge().job();
        String recoveryId = campaignId + "-r-" + hash(merge.jobId());
        RecoveryStatus status = spec.dryRun()
                ? RecoveryStatus.DRY_RUN
                : spec.onInsufficientSpace() == SpacePolicy.ASK ? RecoveryStatus.PROPOSED : RecoveryStatus.RUNNING;
        Optional<VolumeInventory> source = fleet.stream()
                .filter(v -> v.host().equals(need.merge().host())
                        && v.volume().equals(need.merge().volume()))
                .findFirst();
        Attempt attempt = source.map(v -> new Attempt(campaignId, recoveryId, spec, need, v, fleet, claimed, now))
                .orElse(null);
        Optional<Choice> choice = attempt == null ? Optional.empty() : attempt.choose(busyChains);
        if (choice.isEmpty()) {
            String why = attempt == null
                    ? "no space check of " + need.merge().volume() + " on "
                            + need.merge().host()
                    : attempt.whyNot();
            return new CampaignRecovery(
                    Schema.VERSION,
                    campaignId,
                    merge.jobId(),
                    now,
                    recoveryId,
                    RecoveryStatus.IMPOSSIBLE,
                    need.trigger(),
                    need.pool(),
                    need.merge().host(),
                    need.merge().volume(),
                    need.requiredBytes(),
                    need.availableBytes(),
                    "no recovery: " + why,
                    List.of(),
                    why);
        }
        return new CampaignRecovery(
                Schema.VERSION,
                campaignId,
                merge.jobId(),
                now,
                recoveryId,
                status,
                need.trigger(),
                need.pool(),
                need.merge().host(),
                need.merge().volume(),
                need.requiredBytes(),
                need.availableBytes(),
                choice.get().explanation(),
                choice.get().steps(),
                null);
    }

    /** The space the transplants of a recovery take on each volume ({@code host:volume}) until it is over. */
    static Map<String, Long> claims(CampaignRecovery recovery) {
        Map<String, Long> claims = new HashMap<>();
        for (Step step : recovery.steps()) {
            if (step.bytes() > 0) {
                claims.merge(step.host() + ":" + step.volume(), step.bytes(), Long::sum);
            }
        }
        return claims;
    }

    private record Choice(String explanation, List<Step> steps) {}

    private record Target(VolumeInventory volume, int tier, long room) {}

    /** One recovery being worked out for one merge. */
    private static final class Attempt {
        private final String campaignId;
        private final String recoveryId;
        private final CampaignSpec spec;
        private final Need need;
        private final MergeJob merge;
        private final VolumeInventory source;
        private final Map<String, InventoryDisk> byPath = new HashMap<>();
        private final List<Target> targets = new ArrayList<>();
        private final Instant now;
        private final List<String> rejected = new ArrayList<>();

        Attempt(
                String campaignId,
                String recoveryId,
                CampaignSpec spec,
                Need need,
                VolumeInventory source,
                List<VolumeInventory> fleet,
                Map<String, Long> claimed,
                Instant now) {
            this.campaignId = campaignId;
            this.recoveryId = recoveryId;
            this.spec = spec;
            this.need = need;
            this.merge = need.merge().job();
            this.source = source;
            this.now = now;
            source.disks().forEach(d -> byPath.put(d.path(), d));
            for (VolumeInventory volume : fleet) {
                if (volume.key().equals(source.key()) || !spec.mayReceive(volume.pool(), volume.volume())) {
                    continue;
                }
                int tier = volume.host().equals(source.host()) && volume.pool().equals(source.pool())
                        ? 0
                        : volume.pool().equals(source.pool()) ? 1 : 2;
                long room = Planner.roomOn(volume, spec) - claimed.getOrDefault(volume.key(), 0L);
                targets.add(new Target(volume, tier, Math.max(0, room)));
            }
            targets.sort(Comparator.comparingInt(Target::tier)
                    .thenComparing(Comparator.comparingLong(Target::room).reversed())
                    .thenComparing(t -> t.volume().key()));
        }

        String whyNot() {
            if (targets.isEmpty()) {
                return "no other volume may receive disks (transplantTo, or no space check of the target pools)";
            }
            return String.join("; ", rejected);
        }

        Optional<Choice> choose(Set<String> busyChains) {
            InventoryDisk destination = byPath.get(merge.destination() != null ? merge.destination() : parentOf());
            InventoryDisk root = byPath.get(merge.chain());
            if (destination == null || root == null) {
                rejected.add("the chain of " + merge.child() + " is not in the space check of " + source.volume());
                return Optional.empty();
            }
            long growth = need.requiredBytes();
            for (Target target : targets) {
                if (target.tier() == 0) {
                    long needed = destination.fileSize() + growth;
                    if (target.room() >= needed) {
                        return Optional.of(moveDestination(destination, target, growth));
                    }
                    rejected.add(roomLine(target, needed, "for " + name(destination.path()) + " and the growth"));
                } else {
                    Optional<List<InventoryDisk>> chain = wholeChain(root);
                    if (chain.isEmpty()) {
                        rejected.add(name(root.path()) + "'s chain has branches: it cannot move to another worker");
                        continue;
                    }
                    if (source.workerUrl() == null || target.volume().workerUrl() == null) {
                        rejected.add(target.volume().key() + ": a worker did not report its URL (http.advertised-url)");
                        continue;
                    }
                    long needed = chain.get().stream()
                                    .mapToLong(InventoryDisk::fileSize)
                                    .sum()
                            + growth;
                    if (target.room() >= needed) {
                        return Optional.of(moveChain(chain.get(), target, growth));
                    }
                    rejected.add(roomLine(target, needed, "for the whole chain and the growth"));
                }
            }
            return makeRoom(busyChains, growth);
        }

        private String parentOf() {
            InventoryDisk child = byPath.get(merge.child());
            return child == null ? null : child.parent();
        }

        private Choice moveDestination(InventoryDisk destination, Target target, long growth) {
            String folder = targetFolder(destination.path(), target.volume());
            String moved = folder + "/" + name(destination.path());
            TransplantJob move = transplant(
                    "move", target.volume().pool(), List.of(destination.path()), folder, null, growth, merge.chain());
            boolean movesRoot = destination.path().equals(merge.chain());
            MergeJob there = mergeStep(
                    target.volume().pool(),
                    movesRoot ? moved : merge.chain(),
                    merge.child(),
                    merge.destination() == null ? null : moved);
            List<Step> steps = new ArrayList<>();
            steps.add(new Step(
                    "move",
                    "move %s (%s) to %s on %s, re-pointing its child"
                            .formatted(
                                    name(destination.path()),
                                    DataSize.format(destination.fileSize()),
                                    folder,
                                    target.volume().host()),
                    move,
                    target.volume().host(),
                    target.volume().volume(),
                    destination.fileSize() + growth));
            steps.add(new Step(
                    "merge",
                    "merge %s into %s there".formatted(name(merge.child()), moved),
                    there,
                    target.volume().host(),
                    target.volume().volume(),
                    0));
            if (spec.moveBack()) {
                TransplantJob back = transplant(
                        "move-back",
                        source.pool(),
                        List.of(moved),
                        parentFolder(destination.path()),
                        null,
                        0,
                        movesRoot ? moved : merge.chain());
                steps.add(new Step(
                        "move-back",
                        "move the merged %s back to %s".formatted(name(moved), parentFolder(destination.path())),
                        back,
                        source.host(),
                        source.volume(),
                        0));
            }
            return new Choice(
                    "%s needs %s on %s but %s is available; %s has %s free on the same worker: the destination moves there and the merge follows"
                            .formatted(
                                    merge.child(),
                                    DataSize.format(need.requiredBytes()),
                                    source.volume(),
                                    DataSize.format(need.availableBytes()),
                                    target.volume().volume(),
                                    DataSize.format(target.room())),
                    steps);
        }

        private Choice moveChain(List<InventoryDisk> chain, Target target, long growth) {
            InventoryDisk root = chain.get(chain.size() - 1);
            String folder = targetFolder(root.path(), target.volume());
            List<String> disks = chain.stream().map(InventoryDisk::path).toList();
            TransplantSource from = new TransplantSource(source.pool(), source.host(), source.workerUrl());
            TransplantJob move = transplant("move", target.volume().pool(), disks, folder, from, growth, merge.chain());
            String movedRoot = folder + "/" + name(root.path());
            MergeJob there = mergeStep(
                    target.volume().pool(),
                    movedRoot,
                    folder + "/" + name(merge.child()),
                    merge.destination() == null ? null : folder + "/" + name(merge.destination()));
            List<Step> steps = new ArrayList<>();
            steps.add(new Step(
                    "move",
                    "move the chain of %s (%d disks, %s) to %s on %s"
                            .formatted(
                                    name(root.path()),
                                    chain.size(),
                                    DataSize.format(chain.stream()
                                            .mapToLong(InventoryDisk::fileSize)
                                            .sum()),
                                    folder,
                                    target.volume().host()),
                    move,
                    target.volume().host(),
                    target.volume().volume(),
                    bytesOf(chain) + growth));
            steps.add(new Step(
                    "merge",
                    "merge %s into %s there".formatted(name(merge.child()), movedRoot),
                    there,
                    target.volume().host(),
                    target.volume().volume(),
                    0));
            if (spec.moveBack()) {
                // What the merge leaves: the moved disks less its sources, which it removes.
                List<String> merged = sourcesOf(chain);
                List<String> left = chain.stream()
                        .map(InventoryDisk::path)
                        .filter(p -> !merged.contains(p))
                        .map(p -> folder + "/" + name(p))
                        .toList();
                TransplantSource back = new TransplantSource(
                        target.volume().pool(),
                        target.volume().host(),
                        target.volume().workerUrl());
                steps.add(new Step(
                        "move-back",
                        "move the merged chain (%d disks) back to %s on %s"
                                .formatted(left.size(), parentFolder(root.path()), source.host()),
                        transplant("move-back", source.pool(), left, parentFolder(root.path()), back, 0, movedRoot),
                        source.host(),
                        source.volume(),
                        0));
            }
            return new Choice(
                    "%s needs %s on %s but %s is available; no volume of %s has room, %s on %s has %s: the chain moves there (a merge runs on one worker) and the merge follows"
                            .formatted(
                                    merge.child(),
                                    DataSize.format(need.requiredBytes()),
                                    source.volume(),
                                    DataSize.format(need.availableBytes()),
                                    source.host(),
                                    target.volume().volume(),
                                    target.volume().host(),
                                    DataSize.format(target.room())),
                    steps);
        }

        /** The disks the merge removes: from its child down to, not including, its destination. */
        private List<String> sourcesOf(List<InventoryDisk> chain) {
            List<String> sources = new ArrayList<>();
            String destination = merge.destination() != null ? merge.destination() : parentOf();
            boolean in = false;
            for (InventoryDisk disk : chain) {
                if (disk.path().equals(merge.child())) {
                    in = true;
                }
                if (disk.path().equals(destination)) {
                    break;
                }
                if (in) {
                    sources.add(disk.path());
                }
            }
            return sources;
        }

        /** Other whole chains off the volume, largest first, until they free the shortfall. */
        private Optional<Choice> makeRoom(Set<String> busyChains, long growth) {
            long shortfall = growth - need.availableBytes();
            if (shortfall <= 0) {
                return Optional.empty();
            }
            List<List<InventoryDisk>> others = new ArrayList<>();
            for (InventoryDisk disk : source.disks()) {
                if (disk.isRootDisk() && !disk.path().equals(merge.chain()) && !busyChains.contains(disk.path())) {
                    wholeChain(disk).ifPresent(others::add);
                }
            }
            others.sort(
                    Comparator.comparingLong(SpaceRecovery::bytesOf).reversed().thenComparing(c -> c.get(c.size() - 1)
                            .path()));
            Map<String, Long> used = new HashMap<>();
            List<Step> steps = new ArrayList<>();
            long freed = 0;
            int index = 0;
            for (List<InventoryDisk> chain : others) {
                if (freed >= shortfall) {
                    break;
                }
                long bytes = bytesOf(chain);
                for (Target target : targets) {
                    boolean sameWorker = target.tier() == 0;
                    if (!sameWorker
                            && (source.workerUrl() == null || target.volume().workerUrl() == null)) {
                        continue;
                    }
                    if (target.room() - used.getOrDefault(target.volume().key(), 0L) < bytes) {
                        continue;
                    }
                    used.merge(target.volume().key(), bytes, Long::sum);
                    InventoryDisk root = chain.get(chain.size() - 1);
                    String folder = targetFolder(root.path(), target.volume());
                    TransplantJob move = transplant(
                            "make-room-" + index++,
                            target.volume().pool(),
                            chain.stream().map(InventoryDisk::path).toList(),
                            folder,
                            sameWorker ? null : new TransplantSource(source.pool(), source.host(), source.workerUrl()),
                            0,
                            root.path());
                    steps.add(new Step(
                            "make-room",
                            "move the chain of %s (%s) to %s on %s to make room"
                                    .formatted(
                                            name(root.path()),
                                            DataSize.format(bytes),
                                            folder,
                                            target.volume().host()),
                            move,
                            target.volume().host(),
                            target.volume().volume(),
                            bytes));
                    freed += bytes;
                    break;
                }
            }
            if (freed < shortfall) {
                rejected.add("moving other chains off %s would free %s of the %s missing"
                        .formatted(source.volume(), DataSize.format(freed), DataSize.format(shortfall)));
                return Optional.empty();
            }
            MergeJob again = mergeStep(merge.pool(), merge.chain(), merge.child(), merge.destination());
            steps.add(new Step(
                    "merge",
                    "merge %s where it is".formatted(name(merge.child())),
                    again,
                    source.host(),
                    source.volume(),
                    0));
            return Optional.of(new Choice(
                    "%s needs %s on %s but %s is available, and neither its destination nor its chain fits elsewhere: %d other chains (%s) move off the volume, then the merge runs where it is"
                            .formatted(
                                    merge.child(),
                                    DataSize.format(need.requiredBytes()),
                                    source.volume(),
                                    DataSize.format(need.availableBytes()),
                                    steps.size() - 1,
                                    DataSize.format(freed)),
                    steps));
        }

        /** The chain from its newest disk down to {@code root}, newest first, if it is one line. */
        private Optional<List<InventoryDisk>> wholeChain(InventoryDisk root) {
            List<InventoryDisk> line = new ArrayList<>();
            InventoryDisk at = root;
            line.add(at);
            while (!at.children().isEmpty()) {
                if (at.children().size() > 1
                        || !byPath.containsKey(at.children().get(0))) {
                    return Optional.empty();
                }
                at = byPath.get(at.children().get(0));
                line.add(0, at);
            }
            return Optional.of(line);
        }

        /** The merge a recovery runs, with the refused merge's settings, at the place it names. */
        private MergeJob mergeStep(String pool, String chain, String child, String destination) {
            return new MergeJob(
                    Schema.VERSION,
                    stepId("merge"),
                    campaignId,
                    pool,
                    now,
                    chain,
                    child,
                    destination,
                    null,
                    null,
                    merge.dryRun(),
                    merge.rateBytesPerSecond(),
                    merge.reserve(),
                    merge.windows());
        }

        private TransplantJob transplant(
                String step,
                String pool,
                List<String> disks,
                String folder,
                TransplantSource from,
                long roomForMerge,
                String chain) {
            return new TransplantJob(
                    Schema.VERSION,
                    stepId(step),
                    campaignId,
                    pool,
                    now,
                    chain,
                    disks,
                    folder,
                    from,
                    TransplantMode.MOVE,
                    roomForMerge,
                    merge.rateBytesPerSecond(),
                    merge.reserve());
        }

        /** The disk's folder, placed under the target volume as it was under the source volume. */
        private String targetFolder(String disk, VolumeInventory target) {
            Path relative = Path.of(source.volume()).relativize(Path.of(disk).getParent());
            return Path.of(target.volume()).resolve(relative).normalize().toString();
        }

        private String stepId(String step) {
            return recoveryId + "-" + step;
        }

        private static String roomLine(Target target, long needed, String what) {
            return "%s has %s, %s needed %s"
                    .formatted(target.volume().key(), DataSize.format(target.room()), DataSize.format(needed), what);
        }
    }

    private static long bytesOf(List<InventoryDisk> chain) {
        return chain.stream().mapToLong(InventoryDisk::fileSize).sum();
    }

    private static String parentFolder(String path) {
        return Path.of(path).getParent().toString();
    }

    private static String name(String path) {
        return Path.of(path).getFileName().toString();
    }

    static String hash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
