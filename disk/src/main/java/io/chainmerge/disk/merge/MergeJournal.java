package io.chainmerge.disk.merge;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.Directories;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * The durable record of a merge in place, beside its newest source ({@code CHILD.chainmerge-journal}).
 * Each destructive step comes after the state that makes it safe is written and flushed; a crash
 * leaves the state the merge resumes from. Rewritten atomically: written aside, flushed, renamed.
 */
public final class MergeJournal {
    static final String SUFFIX = ".chainmerge-journal";
    private static final int VERSION = 1;

    /** The steps of a merge in place, in order. */
    public enum State {
        /** The guards passed; nothing has been written. */
        PREFLIGHT_OK,
        /** The lowest source accepts the destination's new identity, which the destination has taken; data is being copied. */
        COPYING,
        /** Every byte of the sources is in the destination, flushed; the sources are no longer needed. */
        FLUSHED,
        /** The children of the newest source point at the destination. */
        REPOINTED,
        /** The sources are deleted; the journal is about to go. */
        SOURCES_REMOVED
    }

    private final Path file;
    private final List<Path> sources;
    private final Path destination;
    private final List<Path> children;
    private final UUID newIdentity;
    private State state;

    private MergeJournal(
            Path file, List<Path> sources, Path destination, List<Path> children, UUID newIdentity, State state) {
        this.file = file;
        this.sources = List.copyOf(sources);
        this.destination = destination;
        this.children = List.copyOf(children);
        this.newIdentity = newIdentity;
        this.state = state;
    }

    /** Where the journal of a merge whose newest source is {@code child} lives. */
    public static Path pathFor(Path child) {
        Path absolute = child.toAbsolutePath().normalize();
        return absolute.resolveSibling(absolute.getFileName() + SUFFIX);
    }

    public static boolean isJournal(Path file) {
        return file.getFileName().toString().endsWith(SUFFIX);
    }

    /** The journal of an interrupted merge of {@code child}, if there is one. */
    static Optional<MergeJournal> read(Path child) throws IOException {
        Path file = pathFor(child);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
            if (!String.valueOf(VERSION).equals(properties.getProperty("version"))) {
                throw new IllegalArgumentException("unknown journal version " + properties.getProperty("version"));
            }
            return Optional.of(new MergeJournal(
                    file,
                    paths(properties, "source"),
                    Path.of(required(properties, "destination")),
                    paths(properties, "child"),
                    UUID.fromString(required(properties, "newIdentity")),
                    State.valueOf(required(properties, "state"))));
        } catch (IllegalArgumentException e) {
            throw new CorruptDiskException(
                    file,
                    0,
                    "merge journal",
                    "unreadable (" + e.getMessage() + "); if no merge of " + child + " is pending, remove it");
        }
    }

    /** Records a merge about to start (or restarting from before FLUSHED, with a fresh plan). */
    static MergeJournal begin(Path child, List<Path> sources, Path destination, List<Path> children, UUID newIdentity)
            throws IOException {
        MergeJournal journal =
                new MergeJournal(pathFor(child), sources, destination, children, newIdentity, State.PREFLIGHT_OK);
        journal.write();
        CrashPoints.reach("merge.journal-written");
        return journal;
    }

    void advance(State next) throws IOException {
        state = next;
        write();
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
        Directories.force(file.getParent());
    }

    private void write() throws IOException {
        Properties properties = new Properties();
        properties.setProperty("version", String.valueOf(VERSION));
        properties.setProperty("state", state.name());
        properties.setProperty("destination", destination.toString());
        properties.setProperty("newIdentity", newIdentity.toString());
        for (int i = 0; i < sources.size(); i++) {
            properties.setProperty("source." + i, sources.get(i).toString());
        }
        for (int i = 0; i < children.size(); i++) {
            properties.setProperty("child." + i, children.get(i).toString());
        }
        StringWriter text = new StringWriter();
        properties.store(text, "chainmerge merge journal: run the same merge again to finish it");
        Path aside = file.resolveSibling(file.getFileName() + ".new");
        try (FileChannel channel = FileChannel.open(
                aside, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            channel.write(StandardCharsets.UTF_8.encode(text.toString()));
            channel.force(true);
        }
        Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Directories.force(file.getParent());
    }

    private static String required(Properties properties, String key) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return value;
    }

    private static List<Path> paths(Properties properties, String prefix) {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; properties.containsKey(prefix + "." + i); i++) {
            paths.add(Path.of(properties.getProperty(prefix + "." + i)));
        }
        return paths;
    }

    Path file() {
        return file;
    }

    List<Path> sources() {
        return sources;
    }

    Path destination() {
        return destination;
    }

    List<Path> children() {
        return children;
    }

    UUID newIdentity() {
        return newIdentity;
    }

    State state() {
        return state;
    }
}
