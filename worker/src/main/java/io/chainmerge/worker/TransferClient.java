package io.chainmerge.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.TransplantJob;
import io.chainmerge.common.message.TransplantMode;
import io.chainmerge.common.message.TransplantSource;
import io.chainmerge.common.security.CapabilityException;
import io.chainmerge.common.security.CapabilityVerifier;
import io.chainmerge.common.security.TransferCapability;
import io.chainmerge.disk.Access;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import io.chainmerge.disk.io.CrashPoints;
import io.chainmerge.disk.io.LockedFile;
import io.chainmerge.disk.merge.Throttle;
import io.chainmerge.disk.transplant.TransferException;
import io.chainmerge.disk.transplant.TransplantFile;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of a transplant between workers: asks the source worker's {@link TransferServer}
 * for the manifest, pulls each file (resuming a partial one by byte range, retrying a broken stream a
 * few times) and asks for each source's removal once its copy is linked. Blocking, on a volume's
 * executor, with {@code java.net.http}.
 */
final class TransferClient {
    private static final Logger LOG = LoggerFactory.getLogger(TransferClient.class);
    /** Broken streams resumed, per file and attempt, before the copy fails. */
    private static final int RECONNECTS = 5;

    private final HttpClient http;
    private final CapabilityVerifier capabilities;
    private final boolean tlsOnly;
    private final JsonCodec json;
    private final Duration idleTimeout;

    /**
     * @param tls whom the client trusts ({@code tls.ca})
     * @param tlsOnly pull only from https:// URLs (secure mode): the capability never travels in clear text
     * @param idleTimeout the longest a file's stream may stay silent (its headers, or the next bytes of its body)
     *     before it counts as broken ({@code transfer.idle-timeout})
     */
    TransferClient(
            SSLContext tls, boolean tlsOnly, CapabilityVerifier capabilities, JsonCodec json, Duration idleTimeout) {
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls)
                .build();
        this.capabilities = capabilities;
        this.tlsOnly = tlsOnly;
        this.json = json;
        this.idleTimeout = idleTimeout;
    }

    /**
     * Where a job may pull from, and with what: its capability, checked here before anything is sent
     * anywhere. The capability must be signed by a trusted coordinator key, unexpired, for this job,
     * for exactly its files and mode, and name the source worker and URL the job names: the coordinator
     * names only URLs that workers advertised in the inventory, so a URL that merely appears in a job
     * (forged, or edited) never sees a request or a credential.
     */
    record Pull(TransplantSource source, String capability) {
        @Override
        public String toString() {
            return "Pull[" + source + "]"; // the capability is a credential: never logged
        }
    }

    Pull authorize(TransplantJob job) {
        if (tlsOnly && !job.source().url().startsWith("https://")) {
            throw new CapabilityException("security.mode is secure: this worker pulls only over https://, not from "
                    + job.source().url());
        }
        TransferCapability capability = capabilities.verify(job.capability());
        capability.requireJob(job.jobId());
        if (!capability.sourceUrl().equals(job.source().url())
                || !capability.sourceWorker().equals(job.source().worker())) {
            throw new CapabilityException(
                    "the job names the source %s at %s, its capability %s at %s: nothing is pulled"
                            .formatted(
                                    job.source().worker(),
                                    job.source().url(),
                                    capability.sourceWorker(),
                                    capability.sourceUrl()));
        }
        if (!capability.files().equals(job.disks())) {
            throw new CapabilityException("the job names files its capability does not open (%s, the capability %s)"
                    .formatted(job.disks(), capability.files()));
        }
        if (capability.mayDelete() != (job.mode() == TransplantMode.MOVE)) {
            throw new CapabilityException("the capability of the job " + job.jobId() + " is not for a " + job.mode());
        }
        return new Pull(job.source(), job.capability());
    }

    /** Opens the source side: the source worker runs its guards and says what each file is. */
    RemoteSource open(Pull pull, List<String> disks, Path targetFolder, boolean move, long rate) throws IOException {
        TransplantSource source = pull.source();
        StringBuilder query = new StringBuilder("mode=" + (move ? "move" : "copy"));
        for (String disk : disks) {
            query.append("&path=").append(encode(disk));
        }
        HttpResponse<String> response =
                send(request(pull, "manifest?" + query).GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = check(response.statusCode(), response.body(), Path.of(disks.get(0)));
        JsonNode listed = body.get("files");
        if (listed == null || listed.size() != disks.size()) {
            throw new TransferException(
                    Path.of(disks.get(0)),
                    "the source worker's manifest does not list the " + disks.size() + " files asked for");
        }
        List<TransplantFile> files = new ArrayList<>();
        Map<Path, String> digests = new LinkedHashMap<>();
        for (int i = 0; i < disks.size(); i++) {
            JsonNode file = listed.get(i);
            Path remote = Path.of(file.get("path").asText());
            // The copy's name comes from the job (checked there), never from what the source answers.
            Path name = Path.of(disks.get(i)).getFileName();
            files.add(new TransplantFile(
                    remote, targetFolder.resolve(name), file.get("bytes").asLong(), null));
            digests.put(remote, file.get("sha256").asText());
        }
        return new RemoteSource(pull, files, digests, rate);
    }

    /** Asks the source worker to remove a file whose checked copy is linked here; gone already is done. */
    void remove(Pull pull, TransplantFile file) throws IOException {
        String query = "file?path=" + encode(file.source().toString()) + "&sha256=" + file.sha256();
        HttpResponse<String> response =
                send(request(pull, query).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 204 || response.statusCode() == 404) {
            return; // 404: an earlier run removed it before a crash kept that from being recorded
        }
        check(response.statusCode(), response.body(), file.source());
    }

    final class RemoteSource implements io.chainmerge.disk.transplant.TransplantSource {
        private final Pull pull;
        private final TransplantSource source;
        private final List<TransplantFile> files;
        private final Map<Path, String> digests;
        private final long rate;

        private RemoteSource(Pull pull, List<TransplantFile> files, Map<Path, String> digests, long rate) {
            this.pull = pull;
            this.source = pull.source();
            this.files = List.copyOf(files);
            this.digests = digests;
            this.rate = rate;
        }

        @Override
        public List<TransplantFile> files() {
            return files;
        }

        @Override
        public Path parentOfOldest() {
            return null; // the source refuses a run that does not go down to the root
        }

        @Override
        public Map<Path, Path> childrenLeftBehind() {
            return Map.of(); // the source refuses a move that would leave a child behind
        }

        @Override
        public String copy(TransplantFile file, Path partial, Throttle throttle, CopyProgress progress)
                throws IOException {
            IOException last = null;
            int silent = 0;
            for (int attempt = 0; attempt < RECONNECTS; attempt++) {
                long from = Files.exists(partial) ? Files.size(partial) : 0;
                if (from == file.bytes()) {
                    return digests.get(file.source());
                }
                try {
                    pull(file, partial, from, throttle, progress);
                    return digests.get(file.source());
                } catch (IOException e) {
                    if (e instanceof TransferException
                            || e instanceof GuardRefusal
                            || e instanceof NoSuchFileException
                            || e instanceof CopyWriteFailure) {
                        throw e;
                    }
                    last = e; // a broken stream: resume from what arrived
                    if (isSilence(e)) {
                        silent++;
                    }
                    // A flaky network between workers shows here first, before any copy fails: say so.
                    if (attempt + 1 < RECONNECTS) {
                        LOG.warn(
                                "transfer of {} from {} broke ({}); resuming, reconnect {} of {}",
                                file.source(),
                                source.url(),
                                e.toString(),
                                attempt + 1,
                                RECONNECTS - 1);
                    }
                }
            }
            if (silent == RECONNECTS) {
                // Silent on every try: the sender, or the way to it, is gone without a word, maybe for good. Nothing
                // says this job will run here again, so the destination is left as it was found: no partial copy
                // holds room on the volume for a transfer that may never resume.
                Files.deleteIfExists(partial);
                throw new TransferException(
                        file.source(),
                        ("%s: the stream from %s stayed silent for %d ms (transfer.idle-timeout) on each of %d tries;"
                                        + " the partial copy was removed, nothing was linked or removed, and the source is unchanged")
                                .formatted(file.source(), source.url(), idleTimeout.toMillis(), RECONNECTS),
                        last);
            }
            throw new TransferException(
                    file.source(),
                    "%s: the stream from %s broke %d times; the partial copy stays for the next run to resume"
                            .formatted(file.source(), source.url(), RECONNECTS),
                    last);
        }

        /** Nothing came for the idle timeout: neither the answer's headers nor the next bytes of its body. */
        private static boolean isSilence(IOException e) {
            return e instanceof IdleBoundedBody.SilentStream || e instanceof java.net.http.HttpTimeoutException;
        }

        private void pull(TransplantFile file, Path partial, long from, Throttle throttle, CopyProgress progress)
                throws IOException {
            String query = "file?path=" + encode(file.source().toString()) + (rate > 0 ? "&rate=" + rate : "");
            // The sender answers a file's request at once (no hashing before it): waiting longer than the idle
            // timeout for its headers is silence too.
            HttpRequest.Builder builder =
                    request(pull, query).timeout(idleTimeout).GET();
            if (from > 0) {
                builder.header("Range", "bytes=" + from + "-");
            }
            HttpResponse<java.util.concurrent.Flow.Publisher<List<ByteBuffer>>> response =
                    send(builder.build(), HttpResponse.BodyHandlers.ofPublisher());
            try (IdleBoundedBody in = new IdleBoundedBody(response.body(), idleTimeout)) {
                int status = response.statusCode();
                if (status != 200 && status != 206) {
                    check(status, new String(in.readAll(), StandardCharsets.UTF_8), file.source());
                }
                // 200: the source sent the whole file; 206: the rest, after what the partial copy holds.
                long position = status == 206 ? from : 0;
                if (!Files.exists(partial)) {
                    Files.createFile(partial);
                }
                // Through the engine's table of open files: the copy is locked from its first byte on.
                try (LockedFile out = LockedFile.open(partial, Access.WRITE)) {
                    out.truncate(position);
                    byte[] chunk = new byte[256 * 1024];
                    int read;
                    while ((read = in.read(chunk)) >= 0) {
                        throttle.acquire(read);
                        try {
                            out.write(ByteBuffer.wrap(chunk, 0, read), position);
                        } catch (IOException e) {
                            throw new CopyWriteFailure(partial, e);
                        }
                        position += read;
                        progress.copied(read);
                        CrashPoints.reach("transfer.receiving");
                    }
                    try {
                        out.force();
                    } catch (IOException e) {
                        throw new CopyWriteFailure(partial, e);
                    }
                }
                if (position != file.bytes()) {
                    throw new IOException("the stream ended after %d of %d bytes".formatted(position, file.bytes()));
                }
            }
        }

        /**
         * This side's disk failed under the copy (ENOSPC, EIO): not a broken stream, so not retried against the
         * sender, and named as what it is. The partial copy stays for the same job to continue, as after a break.
         */
        private static final class CopyWriteFailure extends IOException {
            CopyWriteFailure(Path partial, IOException cause) {
                super("writing the copy " + partial + ": " + cause.getMessage(), cause);
            }
        }

        @Override
        public void remove(TransplantFile file) throws IOException {
            TransferClient.this.remove(pull, file);
        }

        @Override
        public void close() {
            // nothing is held here: the source worker holds its files only while it serves them
        }
    }

    private HttpRequest.Builder request(Pull pull, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(pull.source().url() + TransferServer.BASE + "/" + pathAndQuery))
                .header("Authorization", "Bearer " + pull.capability())
                .timeout(Duration.ofMinutes(30));
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(
                    "interrupted talking to " + request.uri().getHost());
        }
    }

    /**
     * The body of a successful answer; otherwise the source's typed error, as the same exception the
     * source raised, so the result says what the source's guard said.
     */
    private JsonNode check(int status, String body, Path file) throws IOException {
        JsonNode node;
        try {
            node = json.mapper().readTree(body);
        } catch (IOException e) {
            node = null;
        }
        if (status == 200) {
            if (node == null) {
                throw new TransferException(file, "the source worker's answer is not JSON: " + body);
            }
            return node;
        }
        String reason =
                node != null && node.hasNonNull("reason") ? node.get("reason").asText() : "";
        String message =
                node != null && node.hasNonNull("message") ? node.get("message").asText() : body;
        message = "the source worker says: " + message;
        if (status == 409) {
            Guard guard = Arrays.stream(Guard.values())
                    .filter(g -> g.reason().equals(reason))
                    .findFirst()
                    .orElse(null);
            if (guard != null) {
                Map<String, Object> figures =
                        node.has("figures") ? json.mapper().convertValue(node.get("figures"), Map.class) : Map.of();
                throw new GuardRefusal(guard, file, message, figures);
            }
        }
        if (status == 401 || status == 403) {
            throw new CapabilityException(message);
        }
        if (status == 404) {
            throw new NoSuchFileException(file.toString(), null, message);
        }
        if (status == 400) {
            throw new IllegalArgumentException(message);
        }
        throw new TransferException(file, "HTTP " + status + ": " + message);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
