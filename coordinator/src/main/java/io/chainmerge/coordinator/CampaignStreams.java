package io.chainmerge.coordinator;

import io.chainmerge.common.json.JsonCodec;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live changes of campaigns, for callers of {@code GET /v1/campaigns/{id}/events} (Server-Sent Events).
 *
 * <p>{@link Campaigns} hands every change of a watched campaign here as a finished frame, on its own thread:
 * the JSON is written once per change whatever the number of callers, and a campaign nobody watches costs a
 * map lookup. Each caller ({@link Subscriber}) has a queue of at most {@link Settings#buffer()} frames, which
 * its connection's event loop drains while the socket takes them and resumes from the socket's drain handler,
 * so the event loop never waits on a slow reader. A caller whose queue fills is sent a {@code reset} and
 * dropped: memory stays within callers × buffer, and its reconnect starts from a fresh snapshot.
 *
 * <p>Event ids are {@code EPOCH-SEQUENCE}: the sequence counts the campaign's changes in this process, the
 * epoch names the process. A caller that reconnects with the id of the last change it saw is not sent the
 * snapshot again (it missed nothing); any other id, from another process or an older change, gets one.
 */
final class CampaignStreams {
    /**
     * @param heartbeat how often an idle stream gets a comment, so proxies keep it open
     * @param buffer frames held for one caller whose connection takes no more
     */
    record Settings(Duration heartbeat, int buffer) {
        Settings {
            if (heartbeat.isNegative() || heartbeat.isZero()) {
                throw new IllegalArgumentException("http.events.heartbeat must be longer than 0: " + heartbeat);
            }
            if (buffer < 1) {
                throw new IllegalArgumentException("http.events.buffer must be at least 1: " + buffer);
            }
        }

        static final Settings DEFAULT = new Settings(Duration.ofSeconds(15), 1000);
    }

    private final JsonCodec json;
    private final String epoch = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000000, 0x7fffffff));
    private final Map<String, Set<Subscriber>> watchers = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();

    CampaignStreams(JsonCodec json) {
        this.json = json;
    }

    /** Whether anyone follows the campaign: when nobody does, its changes are not written out. */
    boolean watched(String campaignId) {
        return watchers.containsKey(campaignId);
    }

    /** One event as the stream carries it. */
    String frame(long sequence, String event, Object data) {
        return "id: " + epoch + "-" + sequence + "\nevent: " + event + "\ndata: " + json.write(data) + "\n\n";
    }

    /** The sequence the id of an event of this process names, or -1 for an id of another process, or none. */
    long sequenceOf(String lastEventId) {
        if (lastEventId == null || !lastEventId.startsWith(epoch + "-")) {
            return -1;
        }
        try {
            return Long.parseLong(lastEventId.substring(epoch.length() + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Hands a frame to every caller of the campaign; {@code last} ends their streams once it is written. */
    void publish(String campaignId, String frame, boolean last) {
        Set<Subscriber> subscribers = watchers.get(campaignId);
        if (subscribers == null) {
            return;
        }
        for (Subscriber subscriber : subscribers) {
            subscriber.offer(frame, last);
        }
        if (last) {
            watchers.remove(campaignId);
        }
    }

    void add(Subscriber subscriber) {
        watchers.computeIfAbsent(subscriber.campaignId, id -> ConcurrentHashMap.newKeySet())
                .add(subscriber);
    }

    private void remove(Subscriber subscriber) {
        watchers.computeIfPresent(subscriber.campaignId, (id, set) -> {
            set.remove(subscriber);
            return set.isEmpty() ? null : set;
        });
    }

    /** Callers following a campaign now. */
    int subscribers() {
        return watchers.values().stream().mapToInt(Set::size).sum();
    }

    /** Callers dropped since start for falling a whole buffer behind. */
    long dropped() {
        return dropped.get();
    }

    /** A caller for {@code campaignId} answered through {@code request}'s response, whose event loop is {@code context}. */
    Subscriber subscriber(String campaignId, HttpServerRequest request, Context context, Settings settings) {
        return new Subscriber(campaignId, request, context, settings);
    }

    /**
     * One caller's stream. Frames are offered from the campaigns' thread and written on the connection's event
     * loop; nothing is written before {@link #start}, so a campaign that turns out not to exist can still be
     * answered 404.
     */
    final class Subscriber {
        private final String campaignId;
        private final HttpServerRequest request;
        private final HttpServerResponse response;
        private final Context context;
        private final Settings settings;
        private final ArrayDeque<String> frames = new ArrayDeque<>();
        // Guarded by this.
        private boolean started;
        private boolean drainScheduled;
        private boolean ending;
        private boolean overflowed;
        private boolean closed;
        private long heartbeat = -1;

        private Subscriber(String campaignId, HttpServerRequest request, Context context, Settings settings) {
            this.campaignId = campaignId;
            this.request = request;
            this.response = request.response();
            this.context = context;
            this.settings = settings;
        }

        /** Queues a frame, or, when the queue is full, drops this caller (a reset is all it gets). */
        synchronized void offer(String frame, boolean last) {
            if (closed || ending || overflowed) {
                return;
            }
            if (frames.size() >= settings.buffer()) {
                overflowed = true;
                frames.clear();
                remove(this);
            } else {
                frames.add(frame);
                ending = last;
            }
            scheduleDrain();
        }

        private void scheduleDrain() {
            if (started && !drainScheduled && !closed) {
                drainScheduled = true;
                context.runOnContext(v -> drain());
            }
        }

        /** Sends the headers and whatever is queued; from now on frames are written as they come. */
        void start(Vertx vertx) {
            if (response.closed()) {
                close(); // the caller left while its campaign was looked up
                return;
            }
            response.setChunked(true)
                    .putHeader("content-type", "text/event-stream; charset=utf-8")
                    .putHeader("cache-control", "no-cache")
                    // nginx and its kin buffer responses unless told not to; a stream must not wait in a buffer.
                    .putHeader("x-accel-buffering", "no");
            response.closeHandler(v -> close());
            response.exceptionHandler(e -> close());
            // How long an EventSource waits before it reconnects after a drop.
            response.write("retry: 2000\n\n");
            long every = settings.heartbeat().toMillis();
            synchronized (this) {
                heartbeat = vertx.setPeriodic(every, every, t -> {
                    if (!response.writeQueueFull() && !response.ended()) {
                        response.write(": heartbeat\n\n");
                    }
                });
                started = true;
                scheduleDrain();
            }
        }

        private void drain() {
            while (true) {
                String frame;
                synchronized (this) {
                    drainScheduled = false;
                    if (closed || response.ended()) {
                        return;
                    }
                    if (overflowed) {
                        dropped.incrementAndGet();
                        closed = true;
                        cancelHeartbeat();
                        // Best effort: a caller this far behind may not read it, so the connection goes too.
                        response.end("event: reset\ndata: "
                                + json.write(Map.of(
                                        "campaignId",
                                        campaignId,
                                        "reason",
                                        "this caller fell " + settings.buffer()
                                                + " events behind; reconnect for a fresh snapshot"))
                                + "\n\n");
                        request.connection().close();
                        return;
                    }
                    if (response.writeQueueFull()) {
                        response.drainHandler(v -> drain());
                        return;
                    }
                    frame = frames.poll();
                    if (frame == null) {
                        if (ending) {
                            closed = true;
                            cancelHeartbeat();
                            response.end();
                        }
                        return;
                    }
                }
                response.write(frame);
            }
        }

        private void close() {
            synchronized (this) {
                closed = true;
                frames.clear();
                cancelHeartbeat();
            }
            remove(this);
        }

        private void cancelHeartbeat() {
            if (heartbeat >= 0) {
                context.owner().cancelTimer(heartbeat);
                heartbeat = -1;
            }
        }

        /** Frames queued for this caller now. */
        synchronized int queued() {
            return frames.size();
        }
    }
}
