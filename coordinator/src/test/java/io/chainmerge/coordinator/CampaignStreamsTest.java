package io.chainmerge.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chainmerge.common.json.JsonCodec;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streams' flow control on a real Vert.x server and real sockets: a caller that reads gets every event in
 * order; one that stops reading is dropped once its buffer is full, so a flood of changes neither waits for it
 * nor piles up in memory.
 */
class CampaignStreamsTest {
    private static final int BUFFER = 50;

    private final CampaignStreams streams = new CampaignStreams(new JsonCodec());
    private final Map<String, CampaignStreams.Subscriber> subscribers = new ConcurrentHashMap<>();
    private Vertx vertx;
    private HttpServer server;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        CampaignStreams.Settings settings = new CampaignStreams.Settings(Duration.ofMinutes(5), BUFFER);
        server = vertx.createHttpServer()
                .requestHandler(request -> {
                    String campaign = request.path().substring(1);
                    CampaignStreams.Subscriber subscriber =
                            streams.subscriber(campaign, request, vertx.getOrCreateContext(), settings);
                    subscribers.put(campaign, subscriber);
                    streams.add(subscriber);
                    subscriber.start(vertx);
                })
                .listen(0, "127.0.0.1")
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aCallerThatReadsGetsEveryEventInOrderAndTheStreamEndsAfterTheLast() throws Exception {
        EventStreamReader reader =
                new EventStreamReader(URI.create("http://127.0.0.1:" + server.actualPort() + "/c-read"), null);
        await().atMost(Duration.ofSeconds(5)).until(() -> streams.watched("c-read"));
        int count = 20_000;
        // Faster than any socket: the reader keeps up only because nothing is lost or reordered on the way.
        Thread publisher = new Thread(() -> {
            for (int i = 1; i <= count; i++) {
                streams.publish("c-read", streams.frame(i, "progress", Map.of("n", i)), i == count);
                while (subscribers.get("c-read").queued() >= BUFFER - 1) {
                    Thread.onSpinWait(); // this test's publisher waits; Campaigns never does
                }
            }
        });
        publisher.start();
        List<EventStreamReader.Event> events = reader.untilEnd(Duration.ofSeconds(60));
        publisher.join();
        assertThat(events).hasSize(count + 1);
        List<Integer> numbers = new ArrayList<>();
        for (EventStreamReader.Event event : events.subList(0, count)) {
            numbers.add(Integer.parseInt(event.data().replaceAll("\\D", "")));
        }
        assertThat(numbers).isSorted().doesNotHaveDuplicates().hasSize(count);
        assertThat(events.get(count)).isEqualTo(EventStreamReader.END_OF_STREAM);
        assertThat(streams.watched("c-read")).isFalse();
    }

    @Test
    void aCallerThatStopsReadingIsDroppedOnceItsBufferIsFullAndThePublisherNeverWaits() throws Exception {
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new java.net.InetSocketAddress("127.0.0.1", server.actualPort()));
            OutputStream out = slow.getOutputStream();
            out.write("GET /c-slow HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> streams.watched("c-slow"));
            CampaignStreams.Subscriber subscriber = subscribers.get("c-slow");
            String padding = "x".repeat(1000);
            int most = 0;
            long droppedBefore = streams.dropped();
            // 200 MB of changes into a socket nobody reads: were they held, the heap would show it.
            for (int i = 0; i < 200_000 && streams.watched("c-slow"); i++) {
                streams.publish("c-slow", streams.frame(i, "progress", Map.of("n", i, "pad", padding)), false);
                most = Math.max(most, subscriber.queued());
            }
            assertThat(streams.watched("c-slow")).as("the caller is dropped").isFalse();
            assertThat(most).isLessThanOrEqualTo(BUFFER);
            await().atMost(Duration.ofSeconds(5)).until(() -> streams.dropped() == droppedBefore + 1);
            assertThat(subscriber.queued()).isZero();
            // Its connection is closed: reading what little the socket holds ends in end-of-stream.
            InputStream in = slow.getInputStream();
            slow.setSoTimeout(10_000);
            byte[] chunk = new byte[64 * 1024];
            try {
                while (in.read(chunk) >= 0) {
                    // drain to the end
                }
            } catch (java.net.SocketException reset) {
                // closed with bytes unread: a reset, which says the same
            }
        }
    }
}
