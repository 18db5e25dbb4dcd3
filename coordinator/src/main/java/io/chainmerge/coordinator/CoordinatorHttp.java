package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.security.TlsFiles;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.rw.CloudEventRWException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator's HTTP API (JSON; a spec may be posted as YAML):
 *
 * <pre>
 * POST /campaigns                 submit a spec            201 {"campaignId": …}
 * GET  /campaigns                 every campaign, summed up
 * GET  /campaigns/{id}            one campaign's report with its jobs and skipped disks
 * POST /campaigns/{id}/cancel     stop publishing; running jobs finish
 * POST /campaigns/{id}/pause      hold publishing
 * POST /campaigns/{id}/resume     carry on
 * POST /campaigns/{id}/approve    run its proposed space recoveries (?recovery=ID for one)
 * POST /plan                      the plan of a spec against the latest inventory; nothing is published
 * GET  /inventory                 every volume's latest space check
 * POST /v1/backup-events          a backup system's CloudEvent (structured, or binary with ce-* headers)
 *                                 202 {"requestId": …}; 400 with the reason (and an invalid notification)
 * GET  /health                   the process runs
 * GET  /ready                    the broker answers and every topic exists: 200, else 503
 * GET  /metrics                  Prometheus
 * </pre>
 */
final class CoordinatorHttp {
    private final Vertx vertx;
    private final JsonCodec json;
    private final Campaigns campaigns;
    private final InventoryView inventory;
    private final CoordinatorMetrics metrics;
    private final BackupEvents backupEvents;
    private final BackupNotifier notifier;
    private final Readiness readiness;

    CoordinatorHttp(
            Vertx vertx,
            JsonCodec json,
            Campaigns campaigns,
            InventoryView inventory,
            CoordinatorMetrics metrics,
            Readiness readiness,
            BackupEvents backupEvents,
            BackupNotifier notifier) {
        this.vertx = vertx;
        this.backupEvents = backupEvents;
        this.notifier = notifier;
        this.json = json;
        this.campaigns = campaigns;
        this.inventory = inventory;
        this.metrics = metrics;
        this.readiness = readiness;
    }

    Future<HttpServer> listen(String host, int port, TlsFiles tls) {
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create().setBodyLimit(1 << 20));
        router.post("/campaigns").handler(this::submit);
        router.get("/campaigns").handler(ctx -> reply(ctx, campaigns.list()));
        router.get("/campaigns/:id").handler(ctx -> replyFound(ctx, campaigns.report(ctx.pathParam("id"))));
        router.post("/campaigns/:id/cancel").handler(ctx -> replyFound(ctx, campaigns.cancel(ctx.pathParam("id"))));
        router.post("/campaigns/:id/pause").handler(ctx -> replyFound(ctx, campaigns.pause(ctx.pathParam("id"))));
        router.post("/campaigns/:id/resume").handler(ctx -> replyFound(ctx, campaigns.resume(ctx.pathParam("id"))));
        router.post("/campaigns/:id/approve")
                .handler(ctx -> replyFound(
                        ctx,
                        campaigns.approve(ctx.pathParam("id"), ctx.queryParams().get("recovery"))));
        router.post("/plan").handler(this::plan);
        router.post("/v1/backup-events").handler(this::backupEvent);
        router.get("/inventory").handler(ctx -> send(ctx, 200, inventory.snapshot()));
        router.get("/health").handler(ctx -> send(ctx, 200, Map.of("status", "up")));
        router.get("/ready").handler(ctx -> vertx.executeBlocking(readiness::check)
                .onSuccess(status -> send(ctx, status.ready() ? 200 : 503, status))
                .onFailure(ctx::fail));
        router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape)
                .onSuccess(text -> ctx.response()
                        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(text))
                .onFailure(ctx::fail));
        return vertx.createHttpServer(ServerTls.options(tls))
                .requestHandler(router)
                .listen(port, host)
                .onSuccess(server -> ServerTls.reloadOnChange(vertx, server, tls));
    }

    /** The spec in the request's body, or null after answering 400 with the reason. */
    private CampaignSpec specOf(RoutingContext ctx) {
        try {
            String body = ctx.body().asString();
            if (body == null || body.isBlank()) {
                throw new IllegalArgumentException("the request has no campaign spec");
            }
            return json.yaml().readValue(body, CampaignSpec.class);
        } catch (Exception e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
            send(ctx, 400, Map.of("error", "invalid campaign spec: " + cause.getMessage()));
            return null;
        }
    }

    /**
     * Plans a spec against the latest space check of every volume in {@code chainmerge.inventory}, with
     * the recovery each merge would get if refused for space; publishes nothing.
     */
    private void plan(RoutingContext ctx) {
        CampaignSpec spec = specOf(ctx);
        if (spec == null) {
            return;
        }
        Map<String, List<VolumeInventory>> byPool = new HashMap<>();
        for (VolumeInventory volume : inventory.snapshot()) {
            if (spec.scannedPools().contains(volume.pool())) {
                byPool.computeIfAbsent(volume.pool(), p -> new ArrayList<>()).add(volume);
            }
        }
        Instant now = Instant.now();
        Planner.Plan plan = Planner.plan("plan", spec, byPool, now, true);
        // A pool never space-checked has nothing in the inventory: say so rather than plan nothing silently.
        List<CampaignSkip> skips = new ArrayList<>();
        for (String pool : spec.scannedPools()) {
            if (!byPool.containsKey(pool)) {
                skips.add(new CampaignSkip(
                        Schema.VERSION,
                        "plan",
                        null,
                        now,
                        pool,
                        null,
                        "*",
                        "no-inventory",
                        "no space check of pool " + pool
                                + " in the inventory yet: submit a campaign (a dry run will do) to have one"));
            }
        }
        skips.addAll(plan.skips());
        send(ctx, 200, new Planner.Plan(plan.jobs(), skips, plan.recoveries()));
    }

    private void submit(RoutingContext ctx) {
        CampaignSpec spec = specOf(ctx);
        if (spec == null) {
            return;
        }
        campaigns.submit(spec).whenComplete((id, error) -> {
            if (error != null) {
                send(ctx, 500, Map.of("error", error.toString()));
            } else {
                send(ctx, 201, Map.of("campaignId", id));
            }
        });
    }

    /** The HTTP binding of the same intake as {@code chainmerge.backup-events}; answered once the request is durable. */
    private void backupEvent(RoutingContext ctx) {
        byte[] body =
                ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        BackupEvent event;
        try {
            event = backupEvents.read(HttpMessageFactory.createReader(
                    headers -> ctx.request().headers().forEach(h -> headers.accept(h.getKey(), h.getValue())), body));
        } catch (InvalidBackupEvent invalid) {
            rejectBackupEvent(ctx, invalid);
            return;
        } catch (CloudEventRWException | IllegalArgumentException e) {
            rejectBackupEvent(
                    ctx,
                    new InvalidBackupEvent(
                            "not-a-cloudevent", "not a CloudEvent: " + e.getMessage(), null, null, null, null));
            return;
        }
        campaigns.accept(event).whenComplete((requestId, error) -> {
            if (error != null) {
                send(ctx, 503, Map.of("error", "the request could not be recorded, send it again: " + error));
            } else {
                send(ctx, 202, Map.of("requestId", requestId));
            }
        });
    }

    private void rejectBackupEvent(RoutingContext ctx, InvalidBackupEvent invalid) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("error", invalid.reason());
        answer.put("message", invalid.getMessage());
        if (invalid.requestId() != null) {
            answer.put("requestId", invalid.requestId());
        }
        notifier.invalid(invalid, "POST /v1/backup-events").whenComplete((ok, error) -> send(ctx, 400, answer));
    }

    private <T> void reply(RoutingContext ctx, CompletableFuture<T> value) {
        value.whenComplete((v, error) -> {
            if (error != null) {
                send(ctx, 500, Map.of("error", error.toString()));
            } else {
                send(ctx, 200, v);
            }
        });
    }

    private void replyFound(RoutingContext ctx, CompletableFuture<Optional<CampaignReport>> value) {
        value.whenComplete((v, error) -> {
            Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
            if (cause instanceof IllegalArgumentException refused) {
                send(ctx, 409, Map.of("error", refused.getMessage()));
            } else if (error != null) {
                send(ctx, 500, Map.of("error", error.toString()));
            } else if (v.isEmpty()) {
                send(ctx, 404, Map.of("error", "no campaign " + ctx.pathParam("id")));
            } else {
                send(ctx, 200, v.get());
            }
        });
    }

    private void send(RoutingContext ctx, int status, Object body) {
        String text = json.write(body);
        ctx.response()
                .setStatusCode(status)
                .putHeader("content-type", "application/json")
                .end(text);
    }
}
