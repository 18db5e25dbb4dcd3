package io.chainmerge.disk.io;

import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A claim on a disk file that every host sharing its volume sees: a file {@code .NAME.chainmerge-claim}
 * beside it, naming the host, process and operation, and renewed by touching its modification time while
 * the file is held for writing. It appears whole or not at all: it is written under a draft name of its
 * own, then hard-linked into place by a link that fails when the name exists (atomic on local file
 * systems, NFS and SMB alike, as the job journal's entries are), so nobody ever reads a claim half
 * written.
 *
 * <p>POSIX locks exclude writers only as well as the mount shares them: {@code nolock}, {@code
 * local_lock=all} and {@code nobrl} mounts keep them on one host, and two workers of a pool on such a
 * mount would merge one chain at once. A claim is taken after the lock, for every file held for
 * writing, and released (deleted) with it.
 *
 * <p>A claim not renewed for {@link #ttl()} plus {@link #grace()} (for clocks that disagree between hosts)
 * is stale: its holder died, or lost the volume, and another operation may take it over. So may one on
 * the same host once the holder's process is gone. A holder paused past that time (a stopped process, a
 * host that lost the storage) finds its claim taken when it wakes: {@link #lost()} says so, and the
 * operation stops at its next check instead of writing beside the new holder.
 */
final class ClaimFile {
    static final String SUFFIX = ".chainmerge-claim";
    /** The end of a claim's name while it is written, before it is linked into place. */
    private static final String DRAFT = ".draft";

    /**
     * The claims this process holds, by claim file: one claim per path however many table entries use
     * it (a file replaced under the same name while the old one is still held is a second entry).
     */
    private static final Map<Path, ClaimFile> HELD = new ConcurrentHashMap<>();

    private static final ScheduledExecutorService RENEWER = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "chainmerge-claim-renewer");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * How long a claim lives without being renewed; renewed four times as often. 60 s; {@code
     * chainmerge.claims.ttl} (an ISO-8601 duration, as {@code PT2S}) for tests.
     */
    private static final Duration TTL = Duration.parse(System.getProperty("chainmerge.claims.ttl", "PT60S"));

    /**
     * Allowance for hosts whose clocks disagree: a claim is stale only this long after it expired. 30 s;
     * {@code chainmerge.claims.grace} for tests that cannot wait that long.
     */
    private static final Duration GRACE = Duration.parse(System.getProperty("chainmerge.claims.grace", "PT30S"));

    /**
     * The host a claim names: the host's name, or {@code chainmerge.claims.host} where a test runs two
     * "hosts" on one machine.
     */
    private static final String HOST = System.getProperty("chainmerge.claims.host", HostIdentity.name());

    /** Folders where claims were released since the last sweep. */
    private static final Set<Path> RELEASED_IN = ConcurrentHashMap.newKeySet();

    static {
        long every = Math.max(1, TTL.toMillis() / 4);
        RENEWER.scheduleWithFixedDelay(ClaimFile::renewAll, every, every, TimeUnit.MILLISECONDS);
    }

    private final Path disk;
    private final Path path;
    private final String id;
    private final String operation;
    private int uses = 1; // guarded by ClaimFile.class
    private volatile String lost;

    private ClaimFile(Path disk, Path path, String id, String operation) {
        this.disk = disk;
        this.path = path;
        this.id = id;
        this.operation = operation;
    }

    /**
     * Claims {@code disk} (a real path) for {@code operation}: refused with the {@code in-use} guard,
     * changing nothing, while another live claim holds it.
     */
    static ClaimFile take(Path disk, String operation) throws IOException {
        Path path = pathOf(disk);
        synchronized (ClaimFile.class) {
            ClaimFile held = HELD.get(path);
            if (held != null && held.lost == null) {
                held.uses++;
                return held;
            }
        }
        String id = UUID.randomUUID().toString();
        Map<String, String> mine = new LinkedHashMap<>();
        mine.put("claim", id);
        mine.put("host", host());
        mine.put("boot", HostIdentity.bootId());
        mine.put("pid", Long.toString(ProcessHandle.current().pid()));
        mine.put("operation", operation);
        mine.put("since", Instant.now().toString());
        mine.put("ttl", ttl().toString());
        Path draft = path.resolveSibling(path.getFileName() + "." + id + DRAFT);
        Files.write(draft, text(mine).getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW);
        try {
            Holder holder = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    Files.createLink(path, draft);
                    ClaimFile claim = new ClaimFile(disk, path, id, operation);
                    HELD.put(path, claim);
                    return claim;
                } catch (FileAlreadyExistsException e) {
                    holder = Holder.read(path);
                    if (holder == null) {
                        continue; // released meanwhile
                    }
                    if (attempt > 0 || !holder.stale() || !takeOver(path, holder)) {
                        throw refusal(disk, path, holder);
                    }
                }
            }
            throw refusal(disk, path, holder != null ? holder : new Holder(Map.of(), Instant.now()));
        } finally {
            Files.deleteIfExists(draft);
        }
    }

    /** The operation the claim names. */
    String operation() {
        return operation;
    }

    /** Why the claim was lost while held (taken over by another host, deleted), or null while it holds. */
    String lost() {
        return lost;
    }

    /**
     * Deletes the claim if it is still this one's, and notes its folder for {@link #sweepReleasedFolders}.
     */
    void release() throws IOException {
        synchronized (ClaimFile.class) {
            if (--uses > 0) {
                return;
            }
            HELD.remove(path, this);
        }
        Holder holder = Holder.read(path);
        if (holder != null && id.equals(holder.fields().get("claim"))) {
            Files.deleteIfExists(path);
        }
        RELEASED_IN.add(path.getParent());
    }

    /**
     * Deletes the stale claims a crashed operation left, on files that are gone (a copy renamed into
     * place, a source deleted), in the folders where claims were released: nothing else would ever look
     * at those. Run as an operation's scope ends, outside the table of open files, since it lists folders.
     */
    static void sweepReleasedFolders() {
        for (Path folder : RELEASED_IN) {
            RELEASED_IN.remove(folder);
            sweepOrphans(folder);
        }
    }

    private static void sweepOrphans(Path folder) {
        try (DirectoryStream<Path> claims = Files.newDirectoryStream(folder, ".*" + SUFFIX)) {
            for (Path claim : claims) {
                String name = claim.getFileName().toString();
                Path disk = claim.resolveSibling(name.substring(1, name.length() - SUFFIX.length()));
                if (HELD.containsKey(claim) || Files.exists(disk, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Holder stale = Holder.read(claim);
                if (stale != null && stale.stale()) {
                    takeOver(claim, stale);
                }
            }
        } catch (IOException e) {
            // litter, not danger: the next release in this folder tries again
        }
        // Drafts of claims an operation died writing: only their writer ever links or deletes one.
        Instant old = Instant.now().minus(ttl()).minus(grace());
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(folder, ".*" + SUFFIX + ".*" + DRAFT)) {
            for (Path leftover : leftovers) {
                if (Files.getLastModifiedTime(leftover, LinkOption.NOFOLLOW_LINKS)
                        .toInstant()
                        .isBefore(old)) {
                    Files.deleteIfExists(leftover);
                }
            }
        } catch (IOException e) {
            // as above
        }
    }

    static Path pathOf(Path disk) {
        return disk.resolveSibling("." + disk.getFileName() + SUFFIX);
    }

    static Duration ttl() {
        return TTL;
    }

    static String host() {
        return HOST;
    }

    static Duration grace() {
        return GRACE;
    }

    static void renewAll() {
        for (ClaimFile claim : HELD.values()) {
            claim.renew();
        }
    }

    private void renew() {
        if (lost != null) {
            return;
        }
        // Twice: a stale-claim takeover elsewhere moves the file aside for a moment and puts back a live one.
        for (int attempt = 0; attempt < 2; attempt++) {
            Holder holder = Holder.read(path);
            if (holder != null && id.equals(holder.fields().get("claim"))) {
                try {
                    Files.setLastModifiedTime(path, FileTime.from(Instant.now()));
                    return;
                } catch (IOException e) {
                    // gone between the read and the touch: look again
                }
            }
            sleep(200);
        }
        Holder holder = Holder.read(path);
        lost = holder == null
                ? "%s: its claim %s was deleted".formatted(disk, path)
                : "%s: its claim was taken over by %s".formatted(disk, holder.describe());
    }

    /**
     * Moves a stale claim aside and deletes it, unless what was moved is no longer the stale claim (its
     * holder renewed it, or another host took it over first), which is put back.
     */
    private static boolean takeOver(Path path, Holder stale) throws IOException {
        Path aside = path.resolveSibling(path.getFileName() + "." + UUID.randomUUID() + ".stale");
        try {
            Files.move(path, aside);
        } catch (NoSuchFileException e) {
            return true; // released or taken over meanwhile: try to create it again
        }
        Holder moved = Holder.read(aside);
        if (moved != null && moved.sameClaimAs(stale) && moved.stale()) {
            Files.deleteIfExists(aside);
            return true;
        }
        try {
            Files.createLink(path, aside);
        } catch (FileAlreadyExistsException e) {
            // a claim of a third operation is there already; the live one moved aside loses
        } finally {
            Files.deleteIfExists(aside);
        }
        return false;
    }

    private static GuardRefusal refusal(Path disk, Path path, Holder holder) {
        String by = holder.describe();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("holder", by);
        figures.put("claim", path.toString());
        return new GuardRefusal(Guard.IN_USE, disk, "%s: in use: claimed by %s".formatted(disk, by), figures);
    }

    private static String text(Map<String, String> fields) {
        Properties properties = new Properties();
        properties.putAll(fields);
        StringWriter out = new StringWriter();
        try {
            properties.store(out, "chainmerge holds this disk for writing; stale when not renewed");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What a claim file says, and when it was last renewed. */
    private record Holder(Map<String, String> fields, Instant renewed) {

        /** The claim at {@code path}, or null when there is none; fields may be missing from a foreign or damaged one. */
        static Holder read(Path path) {
            try {
                Instant renewed = Files.getLastModifiedTime(path).toInstant();
                byte[] content = Files.readAllBytes(path);
                Map<String, String> fields = new LinkedHashMap<>();
                try {
                    Properties properties = new Properties();
                    properties.load(new StringReader(new String(content, StandardCharsets.UTF_8)));
                    properties.stringPropertyNames().forEach(name -> fields.put(name, properties.getProperty(name)));
                } catch (IOException | IllegalArgumentException e) {
                    // torn or foreign: judged by its time alone
                }
                return new Holder(fields, renewed);
            } catch (NoSuchFileException e) {
                return null;
            } catch (IOException e) {
                return new Holder(Map.of(), Instant.now()); // unreadable: live, as far as anyone can tell
            }
        }

        boolean stale() {
            Duration ttl = ttl();
            try {
                ttl = fields.containsKey("ttl") ? Duration.parse(fields.get("ttl")) : ttl;
            } catch (RuntimeException e) {
                // a foreign or torn claim: this process's own time to live
            }
            if (Instant.now().isAfter(renewed.plus(ttl).plus(grace()))) {
                return true;
            }
            return HostIdentity.bootId().equals(fields.get("boot"))
                    && host().equals(fields.get("host"))
                    && processGone(fields.get("pid"));
        }

        private static boolean processGone(String pid) {
            try {
                return ProcessHandle.of(Long.parseLong(pid))
                        .map(process -> !process.isAlive())
                        .orElse(true);
            } catch (NumberFormatException e) {
                return false;
            }
        }

        boolean sameClaimAs(Holder other) {
            return fields.containsKey("claim") && fields.get("claim").equals(other.fields.get("claim"));
        }

        String describe() {
            long ago = Math.max(0, Duration.between(renewed, Instant.now()).toSeconds());
            return "%s on host %s, pid %s (claim renewed %d s ago)"
                    .formatted(
                            fields.getOrDefault("operation", "an operation"),
                            fields.getOrDefault("host", "?"),
                            fields.getOrDefault("pid", "?"),
                            ago);
        }
    }
}
