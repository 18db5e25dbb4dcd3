package io.chainmerge.worker;

import io.chainmerge.common.security.CapabilityException;
import io.chainmerge.common.security.CapabilityVerifier;
import io.chainmerge.common.security.TransferCapability;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.ErrorReport;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.inuse.InUseCheck;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.LockScope;
import io.chainmerge.disk.io.LockedFile;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.transplant.LocalSource;
import io.chainmerge.disk.transplant.TransferException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The sending side of a transplant between workers, on the worker's HTTP server under {@value #BASE}:
 *
 * <ul>
 *   <li>{@code GET manifest?mode=move|copy&path=...} (newest first): each file's size and SHA-256, after
 *       the source's guards (under the volume roots, one run of a chain down to its root, not in use,
 *       and for a move no child left behind without its parent);
 *   <li>{@code GET file?path=...}: the file's bytes, streamed under a shared lock at most at the
 *       worker's {@code rate} (or the lower one asked for), from the offset a {@code Range: bytes=N-}
 *       names, so a receiver resumes a partial copy;
 *   <li>{@code DELETE file?path=...&sha256=...}: removes a source whose copy the receiver has checked and
 *       linked: only under an exclusive lock, only when the file still has that SHA-256 and no disk
 *       here is built on it.
 * </ul>
 *
 * Every request carries {@code Authorization: Bearer <capability>}: the transfer capability the
 * coordinator signed for one job ({@link TransferCapability}); it opens only that job's files on this
 * worker, reads for a copy, reads and deletes for a move, until it expires. Without
 * {@code transfer.verification-keys} nothing is served. Errors are JSON ({@code outcome}, {@code reason},
 * {@code message}, {@code figures}) with 400 (invalid), 401 (no capability), 403 (a capability that does
 * not open this), 404 (no such file), 409 (refused by a guard) or 500.
 */
final class TransferServer {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TransferServer.class);
    static final String BASE = "/transfer/v1";
    private static final String CAPABILITY = "chainmerge.capability";
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");
    private static final int CHUNK = 256 * 1024;

    private final Vertx vertx;
    private final WorkerConfig config;
    private final VolumeRoots roots;
    private final InUseCheck inUse;
    private final CapabilityVerifier capabilities;
    private final Map<String, String> digests = new ConcurrentHashMap<>();

    TransferServer(
            Vertx vertx, WorkerConfig config, VolumeRoots roots, InUseCheck inUse, CapabilityVerifier capabilities) {
        this.vertx = vertx;
        this.capabilities = capabilities;
        this.config = config;
        this.roots = roots;
        this.inUse = inUse;
    }

    void mount(Router router) {
        router.route(BASE + "/*").handler(this::authorize);
        router.get(BASE + "/manifest").handler(ctx -> blocking(ctx, () -> manifest(ctx)));
        router.get(BASE + "/file").handler(ctx -> blocking(ctx, () -> serve(ctx)));
        router.delete(BASE + "/file").handler(ctx -> blocking(ctx, () -> remove(ctx)));
    }

    /**
     * Every request presents the capability of one job ({@code Authorization: Bearer cm1...}): signed by
     * a trusted coordinator key, unexpired, for this worker; each handler then checks the files and verb.
     */
    private void authorize(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        String presented = header != null && header.startsWith("Bearer ") ? header.substring(7) : null;
        try {
            TransferCapability capability = capabilities.verify(presented);
            capability.requireSourceWorker(config.workerId());
            ctx.put(CAPABILITY, capability);
        } catch (CapabilityException e) {
            refuse(ctx, e);
            return;
        }
        ctx.next();
    }

    private static TransferCapability capability(RoutingContext ctx) {
        return ctx.get(CAPABILITY);
    }

    private static void refuse(RoutingContext ctx, CapabilityException e) {
        error(
                ctx.response(),
                e.missing() ? 401 : 403,
                new ErrorReport(ErrorReport.REFUSED, "unauthorized", e.getMessage(), null, null, null, null));
    }

    private interface Step {
        void run() throws Exception;
    }

    /** Disk work runs on a worker thread, never on the event loop; every failure answers typed. */
    private void blocking(RoutingContext ctx, Step step) {
        vertx.executeBlocking(
                        () -> {
                            step.run();
                            return null;
                        },
                        false)
                .onFailure(e -> {
                    if (e instanceof CapabilityException refused
                            && !ctx.response().headWritten()) {
                        refuse(ctx, refused);
                    } else if (!ctx.response().headWritten()) {
                        ErrorReport report = ErrorReport.of(e);
                        error(ctx.response(), statusOf(report), report);
                    } else {
                        // The answer was under way: the receiver sees a broken stream; the sender's log says why.
                        LOG.warn("serving {} stopped: {}", ctx.request().uri(), e.toString());
                        ctx.response().reset();
                    }
                });
    }

    private JsonObject manifestOf(List<Path> files, boolean move) throws IOException {
        Path parent = LocalSource.checkRun(files);
        if (parent != null) {
            throw new IllegalArgumentException(
                    "%s has the parent %s: a transplant to another worker takes the chain down to its root"
                            .formatted(files.get(files.size() - 1), parent));
        }
        if (move) {
            Map<Path, Path> left = LocalSource.childrenOf(files);
            if (!left.isEmpty()) {
                throw new GuardRefusal(
                        Guard.SIBLINGS,
                        left.values().iterator().next(),
                        "moving %s to another worker would leave %s here without a parent"
                                .formatted(files, left.keySet()),
                        Map.of(
                                "children",
                                left.keySet().stream().map(Path::toString).toList()));
            }
        }
        JsonArray entries = new JsonArray();
        // One operation: the digest reads each file under the exclusive lock the probe takes.
        try (LockScope scope = LockScope.begin("transfer manifest of " + files.get(0))) {
            for (Path file : files) {
                // A file in use (a VM, a merge) is not moved: an exclusive lock is the test.
                try (LockedFile probe = LockedFile.open(file, Access.WRITE)) {
                    inUse.check(List.of(file));
                    entries.add(new JsonObject()
                            .put("path", file.toString())
                            .put("bytes", probe.size())
                            .put("sha256", digestOf(file)));
                }
            }
        }
        return new JsonObject().put("files", entries);
    }

    private void manifest(RoutingContext ctx) throws IOException {
        List<Path> files = new ArrayList<>();
        for (String path : ctx.queryParam("path")) {
            capability(ctx).requireFile(path);
            files.add(roots.resolve(path));
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("name the files with path=, newest first");
        }
        String mode = ctx.queryParam("mode").stream().findFirst().orElse("copy");
        JsonObject body = manifestOf(files, mode.equals("move"));
        ctx.response().putHeader("content-type", "application/json").end(body.encode());
    }

    /** The SHA-256 of a file, remembered while its size and modification time stay the same. */
    private String digestOf(Path file) throws IOException {
        String key = file + "|" + Files.size(file) + "|"
                + Files.getLastModifiedTime(file).toMillis();
        String known = digests.get(key);
        if (known != null) {
            return known;
        }
        String digest;
        try (LockedFile locked = LockedFile.open(file, Access.READ)) {
            digest = locked.sha256();
        }
        digests.put(key, digest);
        return digest;
    }

    private void serve(RoutingContext ctx) throws Exception {
        String path = single(ctx, "path");
        capability(ctx).requireFile(path);
        Path file = roots.resolve(path);
        long rate = config.rateBytesPerSecond();
        String asked = ctx.request().getParam("rate");
        if (asked != null && Long.parseLong(asked) > 0) {
            rate = rate > 0 ? Math.min(rate, Long.parseLong(asked)) : Long.parseLong(asked);
        }
        try (LockedFile locked = LockedFile.open(file, Access.READ)) {
            long size = locked.size();
            long from = 0;
            String range = ctx.request().getHeader("Range");
            if (range != null) {
                Matcher matcher = RANGE.matcher(range);
                if (!matcher.matches()) {
                    throw new IllegalArgumentException("only Range: bytes=N- is served, not " + range);
                }
                from = Long.parseLong(matcher.group(1));
                if (from > size) {
                    ctx.response()
                            .setStatusCode(416)
                            .putHeader("Content-Range", "bytes */" + size)
                            .end();
                    return;
                }
            }
            HttpServerResponse response = ctx.response();
            response.setStatusCode(range == null ? 200 : 206)
                    .putHeader("content-type", "application/octet-stream")
                    .putHeader("content-length", String.valueOf(size - from))
                    .putHeader("accept-ranges", "bytes");
            if (range != null) {
                response.putHeader("Content-Range", "bytes " + from + "-" + (size - 1) + "/" + size);
            }
            Throttle throttle = new Throttle(rate);
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            long position = from;
            while (position < size) {
                buffer.clear();
                buffer.limit((int) Math.min(CHUNK, size - position));
                int read = locked.read(buffer, position);
                if (read < 0) {
                    break;
                }
                throttle.acquire(read);
                buffer.flip();
                byte[] bytes = new byte[read];
                buffer.get(bytes);
                // Waiting for each chunk to be written holds the stream to what the receiver takes; a receiver that
                // takes nothing for the idle timeout (gone silent, or a network that swallows everything) is given up
                // on, so the file's shared lock and this thread are not held for as long as the silence lasts.
                try {
                    response.write(Buffer.buffer(bytes))
                            .toCompletionStage()
                            .toCompletableFuture()
                            .get(config.transferIdleTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    ctx.request().connection().close();
                    throw new IOException(
                            "the receiver took nothing for %d ms (transfer.idle-timeout); %s stays as it is"
                                    .formatted(config.transferIdleTimeout().toMillis(), file));
                }
                position += read;
                CrashPoints.reach("transfer.serving");
            }
            response.end().toCompletionStage().toCompletableFuture().get();
        } catch (ExecutionException e) {
            throw new IOException("the receiver went away: " + e.getCause(), e.getCause());
        }
    }

    private void remove(RoutingContext ctx) throws IOException {
        String path = single(ctx, "path");
        capability(ctx).requireDelete(path);
        Path file = roots.resolve(path);
        String sha256 = single(ctx, "sha256");
        if (!Files.exists(file)) {
            error(ctx.response(), 404, ErrorReport.of(new java.nio.file.NoSuchFileException(file.toString())));
            return;
        }
        Map<Path, Path> children = LocalSource.childrenOf(List.of(file));
        if (!children.isEmpty()) {
            throw new GuardRefusal(
                    Guard.SIBLINGS,
                    file,
                    "%s is still the parent of %s here: it stays".formatted(file, children.keySet()),
                    Map.of(
                            "children",
                            children.keySet().stream().map(Path::toString).toList()));
        }
        try (LockedFile locked = LockedFile.open(file, Access.WRITE)) {
            String now = locked.sha256();
            if (!now.equals(sha256)) {
                throw new TransferException(
                        file,
                        "%s changed since it was copied (its SHA-256 is %s, the copy's %s): it stays"
                                .formatted(file, now, sha256));
            }
            Files.delete(file);
        }
        io.chainmerge.disk.io.Directories.force(file.getParent());
        CrashPoints.reach("transfer.removed");
        ctx.response().setStatusCode(204).end();
    }

    private static String single(RoutingContext ctx, String name) {
        List<String> values = ctx.queryParam(name);
        if (values.size() != 1 || values.get(0).isBlank()) {
            throw new IllegalArgumentException("name exactly one " + name + "=");
        }
        return values.get(0);
    }

    private static int statusOf(ErrorReport report) {
        return switch (report.outcome()) {
            case ErrorReport.REFUSED -> 409;
            case ErrorReport.INVALID -> report.reason().equals("not-found") ? 404 : 400;
            default -> 500;
        };
    }

    private static void error(HttpServerResponse response, int status, ErrorReport report) {
        JsonObject body = new JsonObject()
                .put("outcome", report.outcome())
                .put("reason", report.reason())
                .put("message", report.message())
                .put("figures", new JsonObject(new java.util.LinkedHashMap<>(report.figures())));
        response.setStatusCode(status)
                .putHeader("content-type", "application/json")
                .end(body.encode());
    }
}
