package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.json.JsonCodec;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API as a contract, against a real coordinator and broker: everything under /v1 but the probes and the
 * scrape, the OpenAPI document and the router agreeing both ways, every documented operation answering as
 * documented, paging and filters, {@code Location} on 201, the old paths redirected, and the spec's schema
 * enforced by the server.
 */
class ApiContractIT {
    private static final JsonCodec JSON = new JsonCodec();
    private static final ApiDocument DOCUMENT = ApiDocument.load();

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        String name = "contract-it-" + UUID.randomUUID();
        Map<String, Object> settings = new HashMap<>(Map.of(
                "coordinator.id",
                name,
                "coordinator.group",
                name,
                "topics.prefix",
                "contract-it",
                "topics.replication",
                1,
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "tick",
                "200ms",
                "security.mode",
                "insecure",
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
    void everyRouteTheRouterServesIsInTheDocumentAndEveryDocumentedOneIsServed() {
        List<String> served = coordinator.routes().stream()
                .map(route -> route.replaceAll(":(\\w+)", "{$1}"))
                .toList();
        assertThat(served).as("routes served").isNotEmpty().doesNotContain("* /v1/campaigns");
        assertThat(DOCUMENT.operations()).containsExactlyInAnyOrderElementsOf(served);
    }

    @Test
    void everyRouteButTheProbesAndTheScrapeIsUnderV1OrRedirectsThere() {
        for (String operation : DOCUMENT.operations()) {
            String path = operation.substring(operation.indexOf(' ') + 1);
            JsonNode documented = DOCUMENT.operation(operation.substring(0, operation.indexOf(' ')), path);
            // The dashboard's files are pages for people, not a part of the API a change would version.
            if (!path.startsWith("/v1/")
                    && !List.of("/health", "/ready", "/metrics", "/ui/").contains(path)) {
                assertThat(documented.path("deprecated").asBoolean())
                        .as(operation + " is outside /v1: only the old paths, deprecated")
                        .isTrue();
                assertThat(documented.path("responses").has("308"))
                        .as(operation)
                        .isTrue();
            }
        }
    }

    @Test
    void everyDocumentedOperationAnswersAsTheDocumentSays() throws Exception {
        String id = submit("name: walked\npools: [walk-pool]\nscanTimeout: 1h\n");
        List<String> operations = new ArrayList<>(DOCUMENT.operations());
        // Cancelling ends the campaign: last, so every other call finds it running.
        operations.sort(
                Comparator.comparing((String op) -> op.endsWith("/cancel")).thenComparing(op -> op));
        List<String> problems = new ArrayList<>();
        for (String operation : operations) {
            String method = operation.substring(0, operation.indexOf(' '));
            String path = operation.substring(operation.indexOf(' ') + 1);
            JsonNode documented = DOCUMENT.operation(method, path);
            HttpRequest.Builder request =
                    HttpRequest.newBuilder(url(path.replace("{id}", id))).timeout(Duration.ofSeconds(30));
            JsonNode body = documented.path("requestBody").path("content");
            if (method.equals("POST")) {
                String type = body.isMissingNode()
                        ? "application/json"
                        : body.fieldNames().next();
                JsonNode example = body.path(type).path("example");
                String text =
                        example.isMissingNode() ? "" : example.isTextual() ? example.asText() : example.toString();
                request.header("content-type", type).POST(HttpRequest.BodyPublishers.ofString(text));
            }
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            String contentType = response.headers().firstValue("content-type").orElse(null);
            String text;
            try (InputStream in = response.body()) {
                // A live stream does not end: its headers are what is checked of it here (CampaignEventsIT reads it).
                text = contentType != null && contentType.startsWith("text/event-stream")
                        ? ""
                        : new String(in.readAllBytes());
            }
            assertThat(response.statusCode()).as(operation + ": " + text).isNotIn(404, 405);
            problems.addAll(DOCUMENT.problems(method, path, response.statusCode(), contentType, text));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void aSubmittedCampaignIsWhereItsLocationSays() throws Exception {
        HttpResponse<String> submitted = post("/v1/campaigns", "pools: [located]\nscanTimeout: 1h\n");
        assertThat(submitted.statusCode()).isEqualTo(201);
        String location = submitted.headers().firstValue("Location").orElseThrow();
        String id = JSON.mapper().readTree(submitted.body()).path("campaignId").asText();
        assertThat(location).isEqualTo("/v1/campaigns/" + id);
        HttpResponse<String> report = get(location);
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(DOCUMENT.problems("CampaignReport", report.body())).isEmpty();
    }

    @Test
    void listsComeAPageAtATimeInAStableOrderWithFilters() throws Exception {
        String prefix = "paged-" + UUID.randomUUID().toString().substring(0, 6);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(submit("name: " + prefix + "\npools: [paged]\nscanTimeout: 1h\n"));
        }
        assertThat(post("/v1/campaigns/" + ids.get(1) + "/cancel", "").statusCode())
                .isEqualTo(200);

        List<String> walked = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
            HttpResponse<String> page = get("/v1/campaigns?limit=2" + (next == null ? "" : "&after=" + next));
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(DOCUMENT.problems("GET", "/v1/campaigns", 200, "application/json", page.body()))
                    .isEmpty();
            JsonNode body = JSON.mapper().readTree(page.body());
            assertThat(body.path("items").size()).isBetween(1, 2);
            body.path("items")
                    .forEach(item -> walked.add(item.path("campaignId").asText()));
            next = body.path("next").isNull() ? null : body.path("next").asText();
            assertThat(page.headers().firstValue("Link").isPresent()).isEqualTo(next != null);
            pages++;
        } while (next != null && pages < 100);
        assertThat(walked).isSorted().doesNotHaveDuplicates().containsAll(ids);

        JsonNode cancelled =
                JSON.mapper().readTree(get("/v1/campaigns?state=cancelled").body());
        List<String> cancelledIds = new ArrayList<>();
        cancelled.path("items").forEach(item -> {
            assertThat(item.path("state").asText()).isEqualTo("cancelled");
            cancelledIds.add(item.path("campaignId").asText());
        });
        assertThat(cancelledIds).contains(ids.get(1)).doesNotContain(ids.get(0));
        JsonNode either = JSON.mapper()
                .readTree(
                        get("/v1/campaigns?state=scanning,cancelled&limit=1000").body());
        assertThat(either.findValuesAsText("campaignId")).containsAll(ids);

        HttpResponse<String> badLimit = get("/v1/campaigns?limit=0");
        assertThat(badLimit.statusCode()).isEqualTo(400);
        assertThat(JSON.mapper().readTree(badLimit.body()).path("detail").asText())
                .contains("limit");
        HttpResponse<String> badState = get("/v1/campaigns?state=sleeping");
        assertThat(badState.statusCode()).isEqualTo(400);
        assertThat(JSON.mapper().readTree(badState.body()).path("detail").asText())
                .contains("sleeping")
                .contains("running");
        HttpResponse<String> inventory = get("/v1/inventory?limit=1&pool=none");
        assertThat(inventory.statusCode()).isEqualTo(200);
        assertThat(JSON.mapper().readTree(inventory.body()).path("items").size())
                .isZero();
    }

    @Test
    void aStandingCampaignListsItsBackupRequestsAsTheDocumentSays() throws Exception {
        String source = "/backup/contract-" + UUID.randomUUID().toString().substring(0, 6);
        List<String> requestIds = new ArrayList<>();
        for (String disk : List.of("/srv/vol/a_1.avhd", "/srv/vol/b_1.avhd", "/srv/vol/c_1.avhd")) {
            String event = JSON.mapper()
                    .writeValueAsString(Map.of(
                            "specversion",
                            "1.0",
                            "id",
                            "ev-" + disk.hashCode(),
                            "source",
                            source,
                            "type",
                            BackupEvents.CHECKPOINT_RELEASED,
                            "datacontenttype",
                            "application/json",
                            "data",
                            Map.of("pool", "contract-backup", "disk", disk)));
            HttpResponse<String> accepted = http.send(
                    HttpRequest.newBuilder(url("/v1/backup-events"))
                            .header("content-type", "application/cloudevents+json")
                            .POST(HttpRequest.BodyPublishers.ofString(event))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
            requestIds.add(
                    JSON.mapper().readTree(accepted.body()).path("requestId").asText());
        }
        String path = "/v1/campaigns/" + BackupEvents.campaignId(source) + "/requests";

        // No worker serves the pool: every request waits for its space check, in the order it came.
        List<String> walked = new ArrayList<>();
        String next = null;
        do {
            HttpResponse<String> page = get(path + "?limit=2" + (next == null ? "" : "&after=" + next));
            assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
            assertThat(DOCUMENT.problems("GET", "/v1/campaigns/{id}/requests", 200, "application/json", page.body()))
                    .isEmpty();
            JsonNode body = JSON.mapper().readTree(page.body());
            body.path("items").forEach(item -> {
                assertThat(item.path("status").asText()).isEqualTo("received");
                assertThat(item.path("disk").asText()).startsWith("/srv/vol/");
                walked.add(item.path("requestId").asText());
            });
            next = body.path("next").isNull() ? null : body.path("next").asText();
        } while (next != null && walked.size() < 10);
        assertThat(walked).containsExactlyElementsOf(requestIds);

        assertThat(JSON.mapper()
                        .readTree(get(path + "?status=received,planned").body())
                        .path("items")
                        .size())
                .isEqualTo(3);
        assertThat(JSON.mapper()
                        .readTree(get(path + "?status=answered").body())
                        .path("items")
                        .size())
                .isZero();
        HttpResponse<String> badStatus = get(path + "?status=done");
        assertThat(badStatus.statusCode()).isEqualTo(400);
        assertThat(JSON.mapper().readTree(badStatus.body()).path("detail").asText())
                .contains("done")
                .contains("answered");
        assertThat(get("/v1/campaigns/c-none/requests").statusCode()).isEqualTo(404);
        // A campaign that takes no backup requests has none.
        String plain = submit("pools: [no-requests]\nscanTimeout: 1h\n");
        assertThat(JSON.mapper()
                        .readTree(get("/v1/campaigns/" + plain + "/requests").body())
                        .path("items")
                        .size())
                .isZero();
    }

    @Test
    void theOldPathsAnswer308ToTheirV1PathKeepingTheQuery() throws Exception {
        HttpResponse<String> list = get("/campaigns?state=running&limit=3");
        assertThat(list.statusCode()).isEqualTo(308);
        assertThat(list.headers().firstValue("Location")).hasValue("/v1/campaigns?state=running&limit=3");
        assertThat(post("/campaigns/c-1/pause", "").headers().firstValue("Location"))
                .hasValue("/v1/campaigns/c-1/pause");
        // A client that follows redirects keeps its method and body (308, unlike 301 and 302).
        HttpClient following = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        HttpResponse<String> planned = following.send(
                HttpRequest.newBuilder(url("/plan"))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString("pools: [nowhere]\n"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(planned.statusCode()).as(planned.body()).isEqualTo(200);
        assertThat(planned.uri().getPath()).isEqualTo("/v1/plan");
    }

    @Test
    void aSpecItsSchemaRefusesIsAnswered400NamingTheFieldAndNothingIsSubmitted() throws Exception {
        int before = JSON.mapper()
                .readTree(get("/v1/campaigns?limit=1000").body())
                .path("items")
                .size();
        HttpResponse<String> refused = post("/v1/campaigns", "pools: [a]\nselect: {olderthan: 2d}\n");
        assertThat(refused.statusCode()).isEqualTo(400);
        JsonNode problem = JSON.mapper().readTree(refused.body());
        assertThat(problem.path("detail").asText()).contains("select.olderthan");
        assertThat(problem.path("fields").get(0).asText()).isEqualTo("select.olderthan");
        HttpResponse<String> plan = post("/v1/plan", "pools: [a]\nlimits: {perVolume: many}\n");
        assertThat(plan.statusCode()).isEqualTo(400);
        assertThat(JSON.mapper().readTree(plan.body()).path("detail").asText()).contains("limits.perVolume");
        assertThat(JSON.mapper()
                        .readTree(get("/v1/campaigns?limit=1000").body())
                        .path("items")
                        .size())
                .isEqualTo(before);
    }

    @Test
    void theSpecSchemaServedIsTheOneTheCodeChecksAgainst() throws Exception {
        HttpResponse<String> schema = get("/v1/schemas/campaign-spec.json");
        assertThat(schema.statusCode()).isEqualTo(200);
        assertThat(schema.body()).isEqualTo(new io.chainmerge.common.campaign.CampaignSpecSchema(JSON).text());
        HttpResponse<String> openApi = get("/v1/openapi.json");
        assertThat(JSON.mapper().readTree(openApi.body()).path("openapi").asText())
                .isEqualTo("3.1.0");
    }

    private String submit(String spec) throws Exception {
        HttpResponse<String> response = post("/v1/campaigns", spec);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.mapper().readTree(response.body()).path("campaignId").asText();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(url(path))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(url(path))
                        .timeout(Duration.ofSeconds(30))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI url(String path) {
        return URI.create("http://127.0.0.1:" + coordinator.httpPort() + path);
    }
}
