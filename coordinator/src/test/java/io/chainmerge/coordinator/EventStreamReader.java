package io.chainmerge.coordinator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Server-Sent Events caller for tests: reads a stream on its own thread into a queue of events, comments
 * (heartbeats) included, until the stream ends.
 */
final class EventStreamReader implements AutoCloseable {
    /** One event; a comment line is an event named {@code :} with the comment as data. */
    record Event(String id, String name, String data) {}

    /** Put on the queue when the stream ended. */
    static final Event END_OF_STREAM = new Event(null, "<end of stream>", null);

    final HttpResponse<InputStream> response;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread thread;

    EventStreamReader(URI url, String lastEventId) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .header("accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30));
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        this.response = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        this.thread = new Thread(this::read, "event-stream-reader");
        thread.setDaemon(true);
        thread.start();
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null;
            String name = null;
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (name != null || data.length() > 0) {
                        events.add(new Event(id, name == null ? "message" : name, data.toString()));
                    }
                    name = null;
                    data.setLength(0);
                } else if (line.startsWith(":")) {
                    events.add(new Event(null, ":", line.substring(1).strip()));
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data.append(data.length() > 0 ? "\n" : "").append(line.substring(6));
                }
            }
        } catch (IOException e) {
            // closed by the test, or by the server: the end of the stream either way
        }
        events.add(END_OF_STREAM);
    }

    /** The next event that is not a comment, or null after {@code timeout}. */
    Event next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Event event = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (event == null || !event.name().equals(":")) {
                return event;
            }
        }
    }

    /** Every event up to the end of the stream (comments left out), or until {@code timeout}. */
    List<Event> untilEnd(Duration timeout) throws InterruptedException {
        List<Event> all = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Event event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (event == null || event == END_OF_STREAM) {
                if (event == END_OF_STREAM) {
                    all.add(event);
                }
                return all;
            }
            all.add(event);
        }
        return all;
    }

    /** The next comment line, e.g. a heartbeat, or null after {@code timeout}. */
    Event nextComment(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Event event = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (event == null || event.name().equals(":") || event == END_OF_STREAM) {
                return event;
            }
        }
    }

    @Override
    public void close() throws IOException {
        response.body().close();
        thread.interrupt();
    }
}
