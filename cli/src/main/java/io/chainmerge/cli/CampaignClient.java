package io.chainmerge.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.coordinator.Page;
import io.chainmerge.coordinator.Planner;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * The coordinator's HTTP API, as the CLI and the demo use it. Errors name the coordinator's address. Given
 * several replicas of a coordinator group (comma-separated), a call goes to the one that answered last, or
 * the next that accepts a connection; a write a standby answers with the leader's URL goes there.
 */
final class CampaignClient {
    /** The first replica: requests are built against it, then sent to whichever replica answers. */
    private final URI base;

    private final List<URI> replicas;
    private volatile URI answering;
    private final JsonCodec json;
    /** The bearer token sent with every call, or null. */
    private final String token;

    private final HttpClient http;

    /** Sending {@code token} with every call, to a plain-HTTP coordinator or one the system's CAs trust. */
    CampaignClient(String base, JsonCodec json, String token) {
        this(base, json, token, null);
    }

    /**
     * Sending {@code token} (null for none) with every call, and with {@code tls} (a context trusting the
     * fleet's CA, from {@code --cacert}) for an https:// coordinator.
     */
    CampaignClient(String base, JsonCodec json, String token, SSLContext tls) {
        this.replicas = java.util.Arrays.stream(base.split(","))
                .map(String::strip)
                .filter(url -> !url.isEmpty())
                .map(url -> URI.create(url.endsWith("/") ? url : url + "/"))
                .toList();
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("no coordinator URL in '" + base + "'");
        }
        this.base = replicas.get(0);
        this.answering = this.base;
        this.json = json;
        this.token = token == null || token.isBlank() ? null : token.strip();
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            builder.sslContext(tls);
        }
        this.http = builder.build();
    }

    /** Submits a spec (YAML or JSON text); returns the campaign id. */
    String submit(String spec) throws IOException, InterruptedException {
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve("v1/campaigns"))
                .header("content-type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(spec)));
        Map<String, String> body = json.mapper().readValue(response.body(), new TypeReference<>() {});
        return body.get("campaignId");
    }

    /** Posts a structured CloudEvent to {@code POST /v1/backup-events}; returns its request id. */
    String publishBackupEvent(byte[] structuredEvent) throws IOException, InterruptedException {
        HttpResponse<String> response = send(HttpRequest.newBuilder(base.resolve("v1/backup-events"))
                .header("content-type", "application/cloudevents+json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(structuredEvent)));
        return json.mapper().readTree(response.body()).path("requestId").asText();
    }

    /** Every campaign (in {@code states}, or all when empty), by id, fetched a page at a time. */
    List<CampaignReport> list(List<String> states) throws IOException, InterruptedException {
        List<CampaignReport> all = new java.util.ArrayList<>();
        String after = null;
        String filter =
                states.isEmpty() ? "" : "&state=" + URLEncoder.encode(String.join(",", states), StandardCharsets.UTF_8);
        do {
            String query = "?limit=" + PAGE + filter
                    + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
            Page<CampaignReport> page = json.mapper()
                    .readValue(
                            send(HttpRequest.newBuilder(base.resolve("v1/campaigns" + query))
                                            .GET())
                                    .body(),
                            new TypeReference<Page<CampaignReport>>() {});
            all.addAll(page.items());
            after = page.next();
        } while (after != null);
        return all;
    }

    /** How many campaigns a call asks for: the API's most. */
    private static final int PAGE = 1000;

    CampaignReport show(String id) throws IOException, InterruptedException {
        return json.mapper()
                .readValue(
                        send(HttpRequest.newBuilder(base.resolve("v1/campaigns/" + id))
                                        .GET())
                                .body(),
                        CampaignReport.class);
    }

    /** The plan of a spec (YAML or JSON text) against the coordinator's latest inventory; nothing is published. */
    Planner.Plan plan(String spec) throws IOException, InterruptedException {
        return json.mapper()
                .readValue(
                        send(HttpRequest.newBuilder(base.resolve("v1/plan"))
                                        .header("content-type", "application/yaml")
                                        .POST(HttpRequest.BodyPublishers.ofString(spec)))
                                .body(),
                        Planner.Plan.class);
    }

    /** Approves the campaign's proposed space recoveries, or only {@code recoveryId} when not null. */
    CampaignReport approve(String id, String recoveryId) throws IOException, InterruptedException {
        String query = recoveryId == null ? "" : "?recovery=" + URLEncoder.encode(recoveryId, StandardCharsets.UTF_8);
        return json.mapper()
                .readValue(
                        send(HttpRequest.newBuilder(base.resolve("v1/campaigns/" + id + "/approve" + query))
                                        .POST(HttpRequest.BodyPublishers.noBody()))
                                .body(),
                        CampaignReport.class);
    }

    /** {@code cancel}, {@code pause} or {@code resume}. */
    CampaignReport act(String id, String action) throws IOException, InterruptedException {
        return json.mapper()
                .readValue(
                        send(HttpRequest.newBuilder(base.resolve("v1/campaigns/" + id + "/" + action))
                                        .POST(HttpRequest.BodyPublishers.noBody()))
                                .body(),
                        CampaignReport.class);
    }

    /** One Server-Sent Event of a campaign's stream: its id, its name and its data (JSON). */
    record StreamEvent(String id, String name, String data) {}

    /**
     * Follows {@code GET /v1/campaigns/{id}/events}, handing every event to {@code listener} as it arrives, until
     * the stream ends (the campaign is over, or the coordinator dropped this caller) or {@code listener} answers
     * false. Like a write, it goes to the leader when a standby names one. Returns the id of the last event seen,
     * to resume from.
     */
    String follow(String id, String lastEventId, java.util.function.Predicate<StreamEvent> listener)
            throws IOException, InterruptedException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve("v1/campaigns/" + id + "/events"))
                .header("accept", "text/event-stream")
                .GET();
        if (lastEventId != null) {
            builder.header("Last-Event-ID", lastEventId);
        }
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        HttpRequest built = builder.timeout(Duration.ofSeconds(30)).build();
        HttpResponse<java.util.stream.Stream<String>> response = null;
        Unreachable unreachable = null;
        List<URI> order = new java.util.ArrayList<>(replicas);
        order.remove(answering);
        order.add(0, answering);
        URI at = null;
        for (URI replica : order) {
            try {
                response = stream(at(built, replica), replica);
                at = replica;
                break;
            } catch (Unreachable e) {
                unreachable = unreachable == null ? e : unreachable.and(e);
            }
        }
        if (response == null) {
            throw unreachable;
        }
        if (response.statusCode() != 200) {
            String answer = text(response);
            URI leader = leaderNamedBy(response.statusCode(), answer);
            if (leader != null && !leader.equals(at)) {
                // A standby has no live state: the leader streams.
                response = stream(at(built, leader), leader);
                at = leader;
                if (response.statusCode() != 200) {
                    refuse(response.statusCode(), text(response), leader);
                }
            } else {
                refuse(response.statusCode(), answer, at);
            }
        }
        if (response.statusCode() != 200) {
            throw new IOException("the coordinator at " + at + " answered " + response.statusCode()
                    + " to a request for a campaign's events");
        }
        answering = at;
        String last = lastEventId;
        try (java.util.stream.Stream<String> lines = response.body()) {
            java.util.Iterator<String> it = lines.iterator();
            String eventId = null;
            String name = null;
            StringBuilder data = new StringBuilder();
            while (it.hasNext()) {
                String line = it.next();
                if (line.isEmpty()) {
                    if (name != null) {
                        last = eventId != null ? eventId : last;
                        if (!listener.test(new StreamEvent(eventId, name, data.toString()))) {
                            return last;
                        }
                    }
                    eventId = null;
                    name = null;
                    data.setLength(0);
                } else if (line.startsWith("id:")) {
                    eventId = line.substring(3).strip();
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("data:")) {
                    data.append(data.length() > 0 ? "\n" : "")
                            .append(line.substring(5).strip());
                } // comments (heartbeats) and retry: nothing to do
            }
        } catch (java.io.UncheckedIOException e) {
            throw new IOException(
                    "the stream from the coordinator at " + at + " broke: "
                            + e.getCause().getMessage(),
                    e);
        }
        return last;
    }

    private HttpResponse<java.util.stream.Stream<String>> stream(HttpRequest request, URI replica)
            throws IOException, InterruptedException {
        try {
            return http.send(
                    request,
                    info -> info.statusCode() == 200
                            ? HttpResponse.BodySubscribers.ofLines(StandardCharsets.UTF_8)
                            : HttpResponse.BodySubscribers.mapping(
                                    HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8),
                                    text -> text.lines()));
        } catch (java.net.ConnectException | java.net.http.HttpConnectTimeoutException e) {
            throw new Unreachable("no coordinator answers at " + replica, e);
        }
    }

    /** A non-streaming answer's body, read whole, for the checks every call makes. */
    private static String text(HttpResponse<java.util.stream.Stream<String>> response) {
        try (java.util.stream.Stream<String> lines = response.body()) {
            return String.join("\n", lines.toList());
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpRequest built = request.timeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> response = null;
        Unreachable unreachable = null;
        List<URI> order = new java.util.ArrayList<>(replicas);
        order.remove(answering);
        order.add(0, answering);
        for (URI replica : order) {
            try {
                response = exchange(at(built, replica), replica);
                answering = replica;
                break;
            } catch (Unreachable e) {
                unreachable = unreachable == null ? e : unreachable.and(e);
            }
        }
        if (response == null) {
            throw unreachable;
        }
        URI leader = leaderNamedBy(response.statusCode(), response.body());
        if (leader != null && !leader.equals(answering)) {
            // A standby of the coordinator group: the write goes to the replica it names, once; later calls go
            // there first too, so a read after the write sees it (a standby follows a poll behind).
            response = exchange(at(built, leader), leader);
            answering = leader;
            return check(response, leader);
        }
        return check(response, answering);
    }

    /** {@code request} sent to {@code replica} instead of the first one. */
    private HttpRequest at(HttpRequest request, URI replica) {
        if (replica.equals(base)) {
            return request;
        }
        return HttpRequest.newBuilder(request, (name, value) -> true)
                .uri(replica.resolve(base.relativize(request.uri())))
                .build();
    }

    /** No connection to a replica: the next one is tried. */
    private static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }

        Unreachable and(Unreachable next) {
            Unreachable both = new Unreachable(getMessage() + "; " + next.getMessage(), getCause());
            both.addSuppressed(next);
            return both;
        }
    }

    /** The leader's address when {@code response} is a standby's "not the leader" answer naming one. */
    private URI leaderNamedBy(int status, String text) {
        if (status != 503) {
            return null;
        }
        try {
            var body = json.mapper().readTree(text);
            String url = body.path("leader").path("url").asText("");
            if (!body.path("error").asText().equals("not-leader") || url.isBlank()) {
                return null;
            }
            return URI.create(url.endsWith("/") ? url : url + "/");
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }

    private HttpResponse<String> exchange(HttpRequest request, URI base) throws IOException, InterruptedException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException | java.net.http.HttpConnectTimeoutException e) {
            // The JDK's message is empty or just the exception's name: say which address refused.
            throw new Unreachable(
                    "no coordinator answers at " + base + " ("
                            + (e instanceof java.net.ConnectException ? "connection refused" : "no connection in time")
                            + "; set --coordinator or " + CoordinatorAddress.ENVIRONMENT + ")",
                    e);
        } catch (javax.net.ssl.SSLException e) {
            if (refusedOurCertificate(e)) {
                // The coordinator ended the handshake over the certificate this CLI presented (--cert).
                throw new IOException(
                        "the coordinator at " + base + " refused this CLI's client certificate (--cert): it is not "
                                + "signed by a CA in the coordinator's tls.client-ca, or has expired: "
                                + e.getMessage(),
                        e);
            }
            if (!(e instanceof javax.net.ssl.SSLHandshakeException)) {
                throw new IOException("talking to the coordinator at " + base + ": " + e.getMessage(), e);
            }
            throw new IOException(
                    "the coordinator at " + base + " presents a certificate this CLI does not trust (give its CA with"
                            + " --cacert or " + CoordinatorAddress.CACERT_ENVIRONMENT + "): " + e.getMessage(),
                    e);
        } catch (java.net.http.HttpTimeoutException e) {
            throw new IOException("the coordinator at " + base + " did not answer in time: " + e.getMessage(), e);
        } catch (IOException e) {
            String message = "talking to the coordinator at " + base + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            // A read cut off (its replica stopped mid-answer) is asked of the next replica; a write is not
            // repeated, since it may have been taken.
            throw request.method().equals("GET") ? new Unreachable(message, e) : new IOException(message, e);
        }
    }

    /** A TLS alert from the coordinator about a certificate: it refused the one this CLI presented. */
    private static boolean refusedOurCertificate(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            String message = cause.getMessage();
            if (message != null
                    && message.contains("Received fatal alert")
                    && (message.contains("certificate") || message.contains("unknown_ca"))) {
                return true;
            }
        }
        return false;
    }

    private HttpResponse<String> check(HttpResponse<String> response, URI base) throws IOException {
        refuse(response.statusCode(), response.body(), base);
        return response;
    }

    /** Throws what an answer of {@code status} means to the caller, when it is an error. */
    private void refuse(int status, String text, URI base) throws IOException {
        if (status >= 400) {
            String error = text;
            try {
                var body = json.mapper().readTree(text);
                if (body.has("detail")) { // a problem (RFC 9457)
                    error = body.path("detail").asText();
                } else {
                    error = body.path("error").asText(error)
                            + (body.has("message") ? ": " + body.path("message").asText() : "");
                }
            } catch (IOException e) {
                // not JSON: show it as it is
            }
            if (status == 401) {
                throw new CoordinatorRefusal(
                        401,
                        "the coordinator at " + base + " does not know the caller: " + error
                                + (token == null
                                        ? " (no token given: --token-file FILE or "
                                                + CoordinatorAddress.TOKEN_ENVIRONMENT + ")"
                                        : ""));
            }
            if (status == 403) {
                throw new CoordinatorRefusal(403, "the coordinator at " + base + " refused: " + error);
            }
            if (status == 400 || status == 404 || status == 409) {
                throw new IllegalArgumentException(error);
            }
            throw new IOException("the coordinator answered " + status + ": " + error);
        }
    }
}
