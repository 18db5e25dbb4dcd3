package io.chainmerge.disk.transplant;

import io.chainmerge.disk.io.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A transplant's journal in a file of its own, for a transplant run outside a worker (the command
 * line). Lines of tab-separated fields; each write goes aside, is flushed, renamed over the journal, and
 * the folder flushed, so a crash leaves the previous step or the next, never half of one.
 */
public final class FileJournal implements TransplantJournal {
    private static final String HEADER = "chainmerge-transplant-journal 1";

    private final Path file;
    private TransplantStep step;
    private List<TransplantFile> files = List.of();
    private List<Path> repointed = List.of();

    private FileJournal(Path file) {
        this.file = file;
    }

    /** The journal at {@code file}, as an earlier run left it, or empty. */
    public static FileJournal open(Path file) throws IOException {
        FileJournal journal = new FileJournal(file);
        if (Files.exists(file)) {
            journal.read();
        }
        return journal;
    }

    public Path file() {
        return file;
    }

    private void read() throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IOException(file + " is not a transplant journal this version reads");
        }
        List<TransplantFile> readFiles = new ArrayList<>();
        List<Path> readRepointed = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split("\t", -1);
            switch (fields[0]) {
                case "step" -> step = TransplantStep.valueOf(fields[1]);
                case "file" ->
                    readFiles.add(new TransplantFile(
                            Path.of(fields[1]),
                            Path.of(fields[2]),
                            Long.parseLong(fields[3]),
                            fields[4].equals("-") ? null : fields[4]));
                case "repointed" -> readRepointed.add(Path.of(fields[1]));
                default -> throw new IOException(file + ": unknown line " + line);
            }
        }
        files = List.copyOf(readFiles);
        repointed = List.copyOf(readRepointed);
    }

    @Override
    public TransplantStep step() {
        return step;
    }

    @Override
    public List<TransplantFile> files() {
        return files;
    }

    @Override
    public List<Path> repointed() {
        return repointed;
    }

    @Override
    public void record(TransplantStep next, List<TransplantFile> nextFiles, List<Path> nextRepointed)
            throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        text.append("step\t").append(next.name()).append('\n');
        for (TransplantFile f : nextFiles) {
            text.append("file\t")
                    .append(field(f.source()))
                    .append('\t')
                    .append(field(f.target()))
                    .append('\t')
                    .append(f.bytes())
                    .append('\t')
                    .append(f.sha256() == null ? "-" : f.sha256())
                    .append('\n');
        }
        for (Path child : nextRepointed) {
            text.append("repointed\t").append(field(child)).append('\n');
        }
        Files.createDirectories(file.getParent());
        Path aside = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(
                aside, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Directories.force(file.getParent());
        step = next;
        files = List.copyOf(nextFiles);
        repointed = List.copyOf(nextRepointed);
    }

    /** Forgets a finished transplant. */
    public void delete() throws IOException {
        Files.deleteIfExists(file);
        Directories.force(file.getParent());
    }

    private static String field(Path path) {
        String value = path.toString();
        if (value.indexOf('\t') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a transplanted path cannot hold a tab or a line break: " + value);
        }
        return value;
    }
}
