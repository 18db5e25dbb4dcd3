package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.VolumeInventory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
    private final Readiness readiness;

    CoordinatorHttp(
            Vertx vertx,
            JsonCodec json,
            Campaigns campaigns,
            InventoryView inventory,
            CoordinatorMetrics metrics,
            Readiness readiness) {
        this.vertx = vertx;
        this.json = json;
        this.campaigns = campaigns;
        this.inventory = inventory;
        this.metrics = metrics;
        this.readiness = readiness;
    }

    Future<HttpServer> listen(String host, int port) {
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
        return vertx.createHttpServer().requestHandler(router).listen(port, host);
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
