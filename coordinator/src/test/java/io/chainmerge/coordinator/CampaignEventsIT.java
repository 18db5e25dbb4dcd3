package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.json.JsonCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/campaigns/{id}/events} against a real coordinator and broker: a snapshot, then the changes the
 * coordinator records as it records them, then the end; resuming with {@code Last-Event-ID}; heartbeats; and
 * every event's data fitting the OpenAPI document's schema for it.
 */
class CampaignEventsIT {
    private static final JsonCodec JSON = new JsonCodec();
    private static final ApiDocument DOCUMENT = ApiDocument.load();
    /** The schema each event's data has, in the OpenAPI document. */
    private static final Map<String, String> SCHEMAS = Map.of(
            "snapshot", "CampaignReport",
            "job", "JobView",
            "progress", "JobProgress",
            "totals", "Totals",
            "state", "StateEvent",
            "skip", "CampaignSkip",
            "recovery", "CampaignRecovery",
            "action", "CampaignAction",
            "end", "CampaignReport",
            "reset", "ResetEvent");

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        String name = "events-it-" + UUID.randomUUID();
        Map<String, Object> settings = new HashMap<>(Map.of(
                "coordinator.id",
                name,
                "coordinator.group",
                name,
                "topics.prefix",
                "events-it",
                "topics.replication",
                1,
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "tick",
                "100ms",
                "security.mode",
                "insecure",
                "http.events.heartbeat",
                "300ms",
                "kafka.bootstrap.servers",
                kafka.bootstrapServers()));
        coordinator = Coordinator.start(CoordinatorConfig.of(settings));
    }

    @AfterAll
    static void stop() {
        coordinator.close();
        kafka.close();
    }

    @Test
    void aCampaignIsStreamedFromItsSnapshotThroughItsChangesToItsEnd() throws Exception {
        // No worker serves the pool: its space check times out, the pool is reported unreachable, and the
        // campaign finishes with nothing to merge, each step an event.
        String id = submit("name: streamed\npools: [nobody-serves-it]\nscanTimeout: 2s\n");
        try (EventStreamReader stream = new EventStreamReader(url("/v1/campaigns/" + id + "/events"), null)) {
            assertThat(stream.response.statusCode()).isEqualTo(200);
            assertThat(stream.response.headers().firstValue("content-type"))
                    .hasValueSatisfying(type -> assertThat(type).startsWith("text/event-stream"));
            List<EventStreamReader.Event> events = stream.untilEnd(Duration.ofSeconds(30));
            List<String> names =
                    events.stream().map(EventStreamReader.Event::name).toList();
            assertThat(names.get(0)).isEqualTo("snapshot");
            assertThat(names).contains("state", "skip", "totals");
            assertThat(names.subList(names.size() - 2, names.size()))
                    .containsExactly("end", EventStreamReader.END_OF_STREAM.name());
            JsonNode end = JSON.mapper().readTree(events.get(events.size() - 2).data());
            assertThat(end.path("state").asText()).isEqualTo("finished");
            JsonNode skip = JSON.mapper()
                    .readTree(events.stream()
                            .filter(e -> e.name().equals("skip"))
                            .findFirst()
                            .orElseThrow()
                            .data());
            assertThat(skip.path("reason").asText()).isEqualTo("unreachable");
            // The stream says what the report says.
            JsonNode report = JSON.mapper().readTree(get("/v1/campaigns/" + id).body());
            assertThat(end.path("totals")).isEqualTo(report.path("totals"));
            assertThat(report.path("state").asText()).isEqualTo("finished");
            assertEveryEventFitsTheDocument(events);
            assertThat(events.stream()
                            .filter(e -> e.id() != null)
                            .map(e -> Long.parseLong(e.id().substring(e.id().indexOf('-') + 1)))
                            .toList())
                    .isSorted();
        }
        // Over already: a snapshot and the end, and the stream closes.
        try (EventStreamReader late = new EventStreamReader(url("/v1/campaigns/" + id + "/events"), null)) {
            assertThat(late.untilEnd(Duration.ofSeconds(10)).stream()
                            .map(EventStreamReader.Event::name)
                            .toList())
                    .containsExactly("snapshot", "end", EventStreamReader.END_OF_STREAM.name());
        }
    }

    @Test
    void aCallerThatReconnectsWithTheLastIdItSawGetsOnlyWhatChangedSince() throws Exception {
        String id = submit("name: resumed\npools: [resume-pool]\nscanTimeout: 1h\n");
        String lastId;
        try (EventStreamReader first = new EventStreamReader(url("/v1/campaigns/" + id + "/events"), null)) {
            EventStreamReader.Event snapshot = first.next(Duration.ofSeconds(10));
            assertThat(snapshot.name()).isEqualTo("snapshot");
            lastId = snapshot.id();
        }
        try (EventStreamReader resumed = new EventStreamReader(url("/v1/campaigns/" + id + "/events"), lastId)) {
            assertThat(post("/v1/campaigns/" + id + "/pause").statusCode()).isEqualTo(200);
            // Changes only, up to the pause: the snapshot it already has is not sent again.
            List<String> names = new java.util.ArrayList<>();
            EventStreamReader.Event change;
            do {
                change = resumed.next(Duration.ofSeconds(10));
                assertThat(change).as("events so far: " + names).isNotNull();
                names.add(change.name());
            } while (!change.name().equals("state"));
            assertThat(names).doesNotContain("snapshot");
            assertThat(JSON.mapper().readTree(change.data()).path("paused").asBoolean())
                    .isTrue();
        }
        // An id this process did not give (another replica's, an older change's) gets the whole report again.
        try (EventStreamReader stale = new EventStreamReader(url("/v1/campaigns/" + id + "/events"), "0-1")) {
            EventStreamReader.Event first = stale.next(Duration.ofSeconds(10));
            assertThat(first.name()).isEqualTo("snapshot");
            assertThat(JSON.mapper().readTree(first.data()).path("paused").asBoolean())
                    .isTrue();
            assertThat(stale.nextComment(Duration.ofSeconds(5)))
                    .as("a heartbeat comes while nothing changes")
                    .isNotNull()
                    .extracting(EventStreamReader.Event::data)
                    .isEqualTo("heartbeat");
        }
        post("/v1/campaigns/" + id + "/cancel");
    }

    @Test
    void aCampaignThatDoesNotExistIsAnswered404() throws Exception {
        HttpResponse<String> missing = get("/v1/campaigns/c-none/events");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("content-type")).hasValue("application/problem+json");
    }

    private static void assertEveryEventFitsTheDocument(List<EventStreamReader.Event> events) {
        for (EventStreamReader.Event event : events) {
            if (event == EventStreamReader.END_OF_STREAM) {
                continue;
            }
            assertThat(SCHEMAS).as("documented events").containsKey(event.name());
            assertThat(DOCUMENT.problems(SCHEMAS.get(event.name()), event.data()))
                    .as(event.name() + ": " + event.data())
                    .isEmpty();
        }
    }

    private String submit(String spec) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(url("/v1/campaigns"))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(spec))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.mapper().readTree(response.body()).path("campaignId").asText();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(url(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(url(path))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI url(String path) {
        return URI.create("http://127.0.0.1:" + coordinator.httpPort() + path);
    }
}
