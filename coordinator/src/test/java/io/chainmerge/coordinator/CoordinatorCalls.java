package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.chainmerge.common.json.JsonCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** The calls the coordinator's ITs make of a coordinator they started on loopback, without a token. */
final class CoordinatorCalls {
    private static final JsonCodec JSON = new JsonCodec();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private CoordinatorCalls() {}

    /** Submits a spec (YAML); fails the test unless it is answered 201; returns the campaign's id. */
    static String submit(Coordinator coordinator, String spec) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(url(coordinator, "/v1/campaigns"))
                        .header("content-type", "application/yaml")
                        .POST(HttpRequest.BodyPublishers.ofString(spec))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.mapper().readTree(response.body()).path("campaignId").asText();
    }

    /** The campaign's report; fails the test unless it is answered 200. */
    static JsonNode report(Coordinator coordinator, String id) throws Exception {
        HttpResponse<String> response = HTTP.send(
                HttpRequest.newBuilder(url(coordinator, "/v1/campaigns/" + id)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.mapper().readTree(response.body());
    }

    static URI url(Coordinator coordinator, String path) {
        return URI.create("http://127.0.0.1:" + coordinator.httpPort() + path);
    }
}
