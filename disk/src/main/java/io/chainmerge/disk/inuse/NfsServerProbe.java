package io.chainmerge.disk.inuse;

import io.chainmerge.disk.io.KernelFileId;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Files of the chain that NFSv4 clients of this host's kernel NFS server hold: opens, byte-range lock
 * state, delegations and pNFS layouts, from {@code /proc/fs/nfsd/clients/ID/states} (Linux 5.3 and
 * later), with the client's address and name from the {@code info} file beside it.
 *
 * <p>The kernel names each file by its superblock's device ({@code major:minor}, hexadecimal) and inode,
 * and by the last two components of its path only, so files are matched by device and inode. NFSv3
 * clients keep no open state on the server at all: this probe cannot see them (the quiet period can).
 * A host without a running kernel NFS server has no NFS clients to see. The files are readable by root
 * only; a server whose state the worker may not read is a blind spot, and the policy decides.
 */
public final class NfsServerProbe implements InUseProbe {
    public static final String NAME = "nfs";

    private final Path nfsd;

    public NfsServerProbe() {
        this(Path.of("/proc/fs/nfsd"));
    }

    /** {@code nfsd}: where the nfsd file system is mounted. */
    public NfsServerProbe(Path nfsd) {
        this.nfsd = nfsd;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<InUseHolder> holders(List<Path> files) throws IOException {
        Path clients = nfsd.resolve("clients");
        if (!Files.isDirectory(clients)) {
            if (serverRuns()) {
                throw new ProbeUnavailableException(
                        NAME,
                        "the kernel NFS server runs, but " + clients
                                + " does not list its clients' state (Linux before 5.3?)");
            }
            return List.of(); // no kernel NFS server here: no NFS client can hold a file through it
        }
        Map<KernelFileId, Path> wanted = new HashMap<>();
        for (Path file : files) {
            wanted.put(KernelFileId.of(file), file);
        }
        List<InUseHolder> holders = new ArrayList<>();
        try (DirectoryStream<Path> each = Files.newDirectoryStream(clients)) {
            for (Path client : each) {
                collect(client, wanted, holders);
            }
        } catch (AccessDeniedException e) {
            throw new ProbeUnavailableException(NAME, "may not list " + clients + " (run the worker as root)", e);
        }
        return holders;
    }

    private void collect(Path client, Map<KernelFileId, Path> wanted, List<InUseHolder> holders) throws IOException {
        List<String> states;
        try {
            states = Files.readAllLines(client.resolve("states"));
        } catch (NoSuchFileException e) {
            return; // the client went away meanwhile
        } catch (AccessDeniedException e) {
            throw new ProbeUnavailableException(
                    NAME, "may not read " + client.resolve("states") + " (run the worker as root)", e);
        }
        String who = null;
        for (String line : states) {
            Map<String, String> state = parseState(line);
            KernelFileId id = KernelFileId.parse(state.get("superblock"));
            Path file = id == null ? null : wanted.get(id);
            if (file == null) {
                continue;
            }
            if (who == null) {
                who = describeClient(client);
            }
            holders.add(new InUseHolder(NAME, file, who + ", " + describeState(state)));
        }
    }

    /** "NFSv4.2 client 10.0.0.7:780 (Linux NFSv4.2 hv-01)", from the client's {@code info} file. */
    private static String describeClient(Path client) {
        Map<String, String> info = new HashMap<>();
        try {
            for (String line : Files.readAllLines(client.resolve("info"))) {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    info.put(line.substring(0, colon), unquote(line.substring(colon + 2)));
                }
            }
        } catch (IOException e) {
            // the state names the file; who holds it is a courtesy
        }
        String version = info.containsKey("minor version") ? "NFSv4." + info.get("minor version") : "NFSv4";
        String name = info.get("name");
        return "%s client %s%s"
                .formatted(
                        version,
                        info.getOrDefault("address", client.getFileName().toString()),
                        name == null || name.isBlank() ? "" : " (" + name + ")");
    }

    private static String describeState(Map<String, String> state) {
        String type = state.getOrDefault("type", "?");
        return switch (type) {
            case "open" -> "open for %s, denying %s".formatted(modes(state.get("access")), modes(state.get("deny")));
            case "deleg" -> ("w".equals(state.get("access")) ? "write" : "read") + " delegation";
            case "lock" -> "byte-range lock state";
            case "layout" -> "pNFS layout";
            default -> type + " state";
        };
    }

    /** The kernel's "rw", "r-", "--" in words. */
    private static String modes(String flags) {
        if (flags == null) {
            return "?";
        }
        boolean read = flags.contains("r");
        boolean write = flags.contains("w");
        return read && write ? "read and write" : read ? "read" : write ? "write" : "nothing";
    }

    /**
     * One line of a client's states: {@code - 0xSTATEID: { type: open, access: rw, deny: --,
     * superblock: "fd:01:1234", filename: "vm/disk.avhdx", owner: "…" }} as a map of its fields; empty
     * for a line of another shape.
     */
    static Map<String, String> parseState(String line) {
        int open = line.indexOf('{');
        int close = line.lastIndexOf('}');
        Map<String, String> fields = new LinkedHashMap<>();
        if (!line.startsWith("- ") || open < 0 || close < open) {
            return fields;
        }
        String body = line.substring(open + 1, close);
        int at = 0;
        while (at < body.length()) {
            int colon = body.indexOf(':', at);
            if (colon < 0) {
                break;
            }
            String key = body.substring(at, colon).strip();
            int start = colon + 1;
            while (start < body.length() && body.charAt(start) == ' ') {
                start++;
            }
            int end;
            String value;
            if (start < body.length() && body.charAt(start) == '"') {
                end = closingQuote(body, start);
                value = unquote(body.substring(start, Math.min(end + 1, body.length())));
                end = body.indexOf(',', end);
            } else {
                end = body.indexOf(',', start);
                value = body.substring(start, end < 0 ? body.length() : end).strip();
            }
            fields.put(key, value);
            if (end < 0) {
                break;
            }
            at = end + 1;
        }
        return fields;
    }

    /** The index of the quote that ends the quoted value starting at {@code start}. */
    private static int closingQuote(String text, int start) {
        for (int i = start + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return text.length() - 1;
    }

    /**
     * A value as the kernel quotes it: in double quotes, with quotes and backslashes escaped by a
     * backslash and unprintable bytes as {@code \xHH}.
     */
    static String unquote(String quoted) {
        String text = quoted.strip();
        if (text.length() < 2 || text.charAt(0) != '"' || text.charAt(text.length() - 1) != '"') {
            return text;
        }
        String inner = text.substring(1, text.length() - 1);
        StringBuilder plain = new StringBuilder();
        for (int i = 0; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (c != '\\' || i + 1 == inner.length()) {
                plain.append(c);
            } else if (inner.charAt(i + 1) == 'x' && isHex(inner, i + 2, i + 4)) {
                plain.append((char) Integer.parseInt(inner.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                plain.append(inner.charAt(++i));
            }
        }
        return plain.toString();
    }

    private static boolean isHex(String text, int from, int to) {
        if (to > text.length()) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether nfsd runs: its thread count, readable by anyone, is above zero. */
    private boolean serverRuns() {
        try {
            return Integer.parseInt(Files.readString(nfsd.resolve("threads")).strip()) > 0;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
