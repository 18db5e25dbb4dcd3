package io.chainmerge.worker;

import com.fasterxml.jackson.annotation.JsonValue;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MalformedMessageException;
import io.chainmerge.common.message.MessageCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.disk.transplant.TransplantStep;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The per-job journal on a volume ({@code <volume>/.chainmerge/jobs/<sha256 of job id>.json}), which
 * makes a job delivered twice have the effect of one run (invariant 6): a redelivered finished job
 * answers with the result it had, an interrupted one runs again, and the engine's own merge journal
 * finishes it. It lives on the volume, not the worker, so any worker of the pool that sees the volume
 * sees it. Each write is atomic: written aside, flushed, renamed, the folder flushed.
 */
public final class JobJournal {
    /** The steps of a job, in order. */
    public enum State {
        /** The job started; what it planned to change is recorded, nothing is known to be done. */
        RUNNING("running"),
        /** The job ended and its result is recorded; it is published after this, never before. */
        DONE("done");

        private final String wireName;

        State(String wireName) {
            this.wireName = wireName;
        }

        @JsonValue
        public String wireName() {
            return wireName;
        }
    }

    /**
     * One job's journal entry.
     *
     * @param plannedSources the files a merge was about to merge, recorded before it started, so a
     *     job that finished just before a crash is recognised by their absence
     * @param plannedDestination the file they were merged into
     * @param transplant a transplant's last durable step, null for other kinds
     */
    public record Entry(
            int schemaVersion,
            String jobId,
            State state,
            String worker,
            Instant startedAt,
            Job job,
            List<String> plannedSources,
            String plannedDestination,
            TransplantProgress transplant,
            JobResult result) {
        public Entry {
            plannedSources = plannedSources == null ? List.of() : List.copyOf(plannedSources);
        }

        Entry planned(List<String> sources, String destination) {
            return new Entry(
                    schemaVersion, jobId, state, worker, startedAt, job, sources, destination, transplant, result);
        }

        Entry transplanted(TransplantProgress progress) {
            return new Entry(
                    schemaVersion,
                    jobId,
                    state,
                    worker,
                    startedAt,
                    job,
                    plannedSources,
                    plannedDestination,
                    progress,
                    result);
        }

        Entry done(JobResult finished) {
            return new Entry(
                    schemaVersion,
                    jobId,
                    State.DONE,
                    worker,
                    startedAt,
                    job,
                    plannedSources,
                    plannedDestination,
                    transplant,
                    finished);
        }
    }

    /**
     * A transplant's last durable step, with every file (its SHA-256 once its copy is checked and in
     * place) and the children re-pointed.
     */
    public record TransplantProgress(TransplantStep step, List<FileRecord> files, List<String> repointed) {
        public TransplantProgress {
            files = List.copyOf(files);
            repointed = repointed == null ? List.of() : List.copyOf(repointed);
        }
    }

    /** One transplanted file as the journal keeps it. */
    public record FileRecord(String source, String target, long bytes, String sha256) {}

    private final Path folder;
    private final MessageCodec codec;

    public JobJournal(Path volumeRoot, MessageCodec codec) {
        this.folder = volumeRoot.resolve(".chainmerge").resolve("jobs");
        this.codec = codec;
    }

    public Path folder() {
        return folder;
    }

    public Optional<Entry> read(String jobId) throws IOException {
        Path file = fileOf(jobId);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Entry entry = codec.read(Files.readAllBytes(file), Entry.class);
            return entry.jobId().equals(jobId) ? Optional.of(entry) : Optional.empty();
        } catch (MalformedMessageException e) {
            throw new IOException("the job journal " + file + " is unreadable: " + e.getMessage(), e);
        }
    }

    /**
     * Records that {@code worker} starts {@code job}, unless a run of it began already (here or on another
     * host sharing the volume): then empty, and the caller goes on as for a job delivered again. The entry
     * appears whole or not at all, by a hard link that fails when the name exists (atomic on local file
     * systems, NFS and SMB alike), so of two deliveries racing only one ever owns the entry.
     */
    public Optional<Entry> begin(Job job, String worker, Instant now) throws IOException {
        Entry entry =
                new Entry(Schema.VERSION, job.jobId(), State.RUNNING, worker, now, job, List.of(), null, null, null);
        Path file = fileOf(entry.jobId());
        Path aside = writeAside(entry, file);
        try {
            Files.createLink(file, aside);
        } catch (FileAlreadyExistsException taken) {
            return Optional.empty();
        } finally {
            Files.deleteIfExists(aside);
        }
        forceFolder();
        return Optional.of(entry);
    }

    /** Replaces the entry of a run this worker owns (begun by it, or resumed from its entry). */
    public void write(Entry entry) throws IOException {
        Path file = fileOf(entry.jobId());
        Files.move(writeAside(entry, file), file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceFolder();
    }

    /** The entry, flushed, under a name of its own: two workers writing at once never share a file. */
    private Path writeAside(Entry entry, Path file) throws IOException {
        Files.createDirectories(folder);
        Path aside = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try (FileChannel channel = FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(codec.write(entry));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        return aside;
    }

    private void forceFolder() throws IOException {
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** Forgets finished jobs older than {@code retention}; running ones stay until they finish. */
    public int prune(Duration retention, Instant now) throws IOException {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        int removed = 0;
        try (var files = Files.list(folder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (!file.getFileName().toString().endsWith(".json")) {
                    continue;
                }
                try {
                    Entry entry = codec.read(Files.readAllBytes(file), Entry.class);
                    if (entry.state() == State.DONE
                            && entry.startedAt().plus(retention).isBefore(now)) {
                        Files.deleteIfExists(file);
                        removed++;
                    }
                } catch (MalformedMessageException e) {
                    // left for an operator to look at: never delete what cannot be read
                }
            }
        }
        return removed;
    }

    private Path fileOf(String jobId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(jobId.getBytes(StandardCharsets.UTF_8));
            return folder.resolve(HexFormat.of().formatHex(digest) + ".json");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
