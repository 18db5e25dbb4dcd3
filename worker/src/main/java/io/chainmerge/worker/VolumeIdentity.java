package io.chainmerge.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume's own identity, the same on every host that mounts it at any path: a random id kept on the
 * volume in {@code .chainmerge/volume-id}. The first worker to scan the volume writes it (a draft linked into
 * place, so two hosts racing agree on the one that landed); the coordinator then knows two pools' volume
 * roots for one volume, and one chain on it by one key.
 */
final class VolumeIdentity {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeIdentity.class);
    private static final Pattern ID = Pattern.compile("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}");

    private final Map<Path, String> known = new ConcurrentHashMap<>();

    /** The id of the volume at {@code root}, written there first if it has none; null when it cannot be had. */
    String of(Path root) {
        String id = known.get(root);
        if (id != null) {
            return id;
        }
        try {
            id = readOrCreate(root.resolve(".chainmerge").resolve("volume-id"));
            known.put(root, id);
            return id;
        } catch (IOException | RuntimeException e) {
            // A read-only volume, say: its chains are then known by pool and path alone.
            LOG.warn("volume {} has no identity ({}); its chains are leased by path only", root, e.toString());
            return null;
        }
    }

    private static String readOrCreate(Path file) throws IOException {
        try {
            return valid(file, Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            // not there yet: write it
        }
        Files.createDirectories(file.getParent());
        String mine = UUID.randomUUID().toString();
        Path draft = file.resolveSibling(file.getFileName() + "." + mine + ".draft");
        Files.writeString(draft, mine + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW);
        try {
            Files.createLink(file, draft);
            return mine;
        } catch (FileAlreadyExistsException e) {
            return valid(file, Files.readString(file, StandardCharsets.US_ASCII).strip()); // another host's landed
        } finally {
            Files.deleteIfExists(draft);
        }
    }

    private static String valid(Path file, String id) throws IOException {
        if (!ID.matcher(id).matches()) {
            throw new IOException(file + " does not hold a volume id: " + id);
        }
        return id;
    }
}
