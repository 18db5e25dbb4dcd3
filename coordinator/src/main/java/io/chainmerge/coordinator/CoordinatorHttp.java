package io.chainmerge.coordinator;

import io.chainmerge.common.audit.AuditRecord;
import io.chainmerge.common.campaign.BackupRequest;
import io.chainmerge.common.campaign.CampaignReport;
import io.chainmerge.common.campaign.CampaignSkip;
import io.chainmerge.common.campaign.CampaignSpec;
import io.chainmerge.common.campaign.CampaignSpecSchema;
import io.chainmerge.common.campaign.CampaignState;
import io.chainmerge.common.campaign.InvalidCampaignSpecException;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Schema;
import io.chainmerge.common.message.VolumeInventory;
import io.chainmerge.common.security.TlsFiles;
import io.cloudevents.http.HttpMessageFactory;
import io.cloudevents.rw.CloudEventRWException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's HTTP API (JSON; a spec may be posted as YAML), described route by route in the OpenAPI
 * document it serves at {@code GET /v1/openapi.json} (docs/api.md):
 *
 * <pre>
 * POST /v1/campaigns                 submit a spec            201 {"campaignId": …}, Location: /v1/campaigns/{id}
 * GET  /v1/campaigns                 campaigns summed up, a page at a time (?limit=&amp;after=&amp;state=)
 * GET  /v1/campaigns/{id}            one campaign's report with its jobs and skipped disks
 * GET  /v1/campaigns/{id}/events     its changes as they happen (Server-Sent Events), until it is over
 * GET  /v1/campaigns/{id}/requests   a standing campaign's backup requests, oldest first (?limit=&amp;after=&amp;status=)
 * POST /v1/campaigns/{id}/cancel     stop publishing; running jobs finish
 * POST /v1/campaigns/{id}/pause      hold publishing
 * POST /v1/campaigns/{id}/resume     carry on
 * POST /v1/campaigns/{id}/approve    run its proposed space recoveries (?recovery=ID for one)
 * POST /v1/plan                      the plan of a spec against the latest inventory; nothing is published
 * GET  /v1/inventory                 volumes' latest space checks, a page at a time (?limit=&amp;after=&amp;pool=&amp;host=)
 * POST /v1/backup-events             a backup system's CloudEvent (structured, or binary with ce-* headers)
 *                                    202 {"requestId": …}; 400 with the reason (and an invalid notification)
 * GET  /v1/openapi.json              this API's OpenAPI 3.1 document                      (anonymous)
 * GET  /v1/schemas/campaign-spec.json  the campaign spec's JSON Schema                   (anonymous)
 * GET  /v1/me                    the caller: its name, roles and permissions (any principal)
 * GET  /ui/                      the operators' dashboard: static files holding no data (anonymous; docs/dashboard.md)
 * GET  /health                   the process runs                                    (anonymous)
 * GET  /ready                    the broker answers and every topic exists: 200, else 503   (anonymous);
 *                                 says whether this replica leads or stands by, and who leads
 * GET  /metrics                  Prometheus                                          (anonymous)
 * </pre>
 *
 * <p>The probes and the scrape stay outside /v1, where probes and scrapers look for them. The paths served
 * before /v1 answer 308 to their /v1 path.
 *
 * <p>Every other route needs a principal's bearer token and the permission its roles grant ({@link Role});
 * state-changing calls are rate-limited per principal and audited ({@link AuditLog}, and the campaign's
 * history). Every error is a problem ({@link Problems}).
 */
final class CoordinatorHttp {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorHttp.class);
    /** Routing-context keys: what the audit record says changed, and the campaign it concerns. */
    static final String AUDIT_DETAIL = "chainmerge.audit.detail";

    static final String AUDIT_CAMPAIGN = "chainmerge.audit.campaign";

    private final Vertx vertx;
    private final JsonCodec json;
    private final Campaigns campaigns;
    private final InventoryView inventory;
    private final CoordinatorMetrics metrics;
    private final BackupEvents backupEvents;
    private final BackupNotifier notifier;
    private final Readiness readiness;
    private final ApiSecurity security;
    private final Predicate<String> configuredSource;
    private final AuditLog audit;
    private final Problems problems;
    private final long bodyLimit;
    private final Clock clock;
    private final Leadership leadership;
    private final CampaignSpecSchema specSchema;
    private final CampaignStreams.Settings events;
    /** This API's OpenAPI document, a resource beside this class. */
    private final String openApi;
    /** The routes the router serves, as {@code METHOD path}, for the test that holds them to the document. */
    private volatile List<String> routes = List.of();

    CoordinatorHttp(
            Vertx vertx,
            JsonCodec json,
            Campaigns campaigns,
            InventoryView inventory,
            CoordinatorMetrics metrics,
            Readiness readiness,
            BackupEvents backupEvents,
            BackupNotifier notifier,
            ApiSecurity security,
            Predicate<String> configuredSource,
            AuditLog audit,
            long bodyLimit,
            Clock clock,
            Leadership leadership,
            CampaignStreams.Settings events) {
        this.vertx = vertx;
        this.backupEvents = backupEvents;
        this.notifier = notifier;
        this.json = json;
        this.campaigns = campaigns;
        this.inventory = inventory;
        this.metrics = metrics;
        this.readiness = readiness;
        this.security = security;
        this.configuredSource = configuredSource;
        this.audit = audit;
        this.problems = new Problems(json);
        this.bodyLimit = bodyLimit;
        this.clock = clock;
        this.leadership = leadership;
        this.events = events;
        this.specSchema = new CampaignSpecSchema(json);
        this.openApi = resource("openapi.json");
    }

    private static String resource(String name) {
        try (var in = CoordinatorHttp.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing from the coordinator's jar: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<String> routes() {
        return routes;
    }

    Future<HttpServer> listen(String host, int port, TlsFiles tls) {
        Router router = router();
        routes = router.getRoutes().stream()
                .filter(route -> route.getPath() != null)
                .flatMap(route -> route.methods() == null
                        ? Stream.of("* " + route.getPath())
                        : route.methods().stream().map(method -> method.name() + " " + route.getPath()))
                .distinct()
                .toList();
        return vertx.createHttpServer(ServerTls.options(tls))
                .requestHandler(router)
                .listen(port, host)
                .onSuccess(server -> ServerTls.reloadOnChange(vertx, server, tls));
    }

    /** Where every route but the probes and the scrape lives; a change that breaks a caller goes to /v2. */
    static final String V1 = "/v1";

    /** Where the dashboard's static files are served. */
    static final String UI = "/ui/";

    /** The dashboard's pages load their own scripts, styles and data only, and may not be framed. */
    static final String UI_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
            + " form-action 'self'; frame-ancestors 'none'";

    /**
     * {@code GET /v1/me}: the caller as the coordinator knows it.
     *
     * @param permissions what its roles grant, so that a client shows only the actions it may take
     */
    record Me(String name, List<String> roles, List<String> permissions) {
        static Me of(Principals.Principal principal) {
            return new Me(
                    principal.name(),
                    principal.roles().stream().map(Role::wireName).sorted().toList(),
                    principal.roles().stream()
                            .flatMap(role -> role.permissions().stream())
                            .map(Role.Permission::wireName)
                            .distinct()
                            .sorted()
                            .toList());
        }
    }

    /** The routes served before /v1 (method, path), each answered 308 to its /v1 path (docs/api.md). */
    static final List<String[]> UNVERSIONED = List.of(
            new String[] {"GET", "/campaigns"},
            new String[] {"POST", "/campaigns"},
            new String[] {"GET", "/campaigns/:id"},
            new String[] {"POST", "/campaigns/:id/cancel"},
            new String[] {"POST", "/campaigns/:id/pause"},
            new String[] {"POST", "/campaigns/:id/resume"},
            new String[] {"POST", "/campaigns/:id/approve"},
            new String[] {"POST", "/plan"},
            new String[] {"GET", "/inventory"});

    private void toV1(RoutingContext ctx) {
        String query = ctx.request().query();
        ctx.response()
                .setStatusCode(308)
                .putHeader("Location", V1 + ctx.request().path() + (query == null ? "" : "?" + query))
                .end();
    }

    Router router() {
        Router router = Router.router(vertx);
        router.route().failureHandler(problems::onFailure);
        router.errorHandler(404, problems::onFailure);
        router.errorHandler(405, problems::onFailure);
        // Anonymous: probes and the scraper (docs/security.md says why /metrics is among them).
        router.get("/health").handler(ctx -> send(ctx, 200, Map.of("status", "up")));
        router.get("/ready").handler(ctx -> vertx.executeBlocking(readiness::check)
                .onSuccess(status -> send(ctx, status.ready() ? 200 : 503, status))
                .onFailure(ctx::fail));
        router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape)
                .onSuccess(text -> ctx.response()
                        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(text))
                .onFailure(ctx::fail));

        // The API's description and the spec's schema: public, like the docs that carry them.
        router.get(V1 + "/openapi.json").handler(ctx -> ctx.response()
                .putHeader("content-type", "application/json")
                .end(openApi));
        router.get(V1 + "/schemas/campaign-spec.json").handler(ctx -> ctx.response()
                .putHeader("content-type", "application/schema+json")
                .end(specSchema.text()));

        // The dashboard: static files only, so anonymous; every call it makes for data carries the signed-in
        // token. Nothing else may run on its pages: file names shown there are attacker-controlled strings.
        router.get(UI + "*")
                .handler(ctx -> {
                    ctx.response()
                            .putHeader("Content-Security-Policy", UI_POLICY)
                            .putHeader("X-Content-Type-Options", "nosniff")
                            .putHeader("Referrer-Policy", "no-referrer");
                    ctx.next();
                })
                .handler(StaticHandler.create("io/chainmerge/coordinator/ui")
                        .setIndexPage("index.html")
                        .setCachingEnabled(false));

        // The paths from before /v1: answered with a permanent redirect that keeps the method and body.
        for (String[] old : UNVERSIONED) {
            router.route(HttpMethod.valueOf(old[0]), old[1]).handler(this::toV1);
        }

        // Everything else: who calls first, then the body (an unknown caller's body is never read).
        router.route().handler(security.authentication());
        router.route().handler(BodyHandler.create().setBodyLimit(bodyLimit));

        // Who calls, for any principal (a backup system too): the dashboard shows what the roles allow.
        router.get(V1 + "/me").handler(ctx -> send(ctx, 200, Me.of(ApiSecurity.principal(ctx))));

        Handler<RoutingContext> read = security.require(Role.Permission.READ);
        router.get(V1 + "/campaigns").handler(read).handler(this::listCampaigns);
        router.get(V1 + "/campaigns/:id")
                .handler(read)
                .handler(ctx -> replyFound(ctx, campaigns.report(ctx.pathParam("id"))));
        // Live state is the leader's: a standby knows no progress and publishes nothing, so it sends callers on.
        router.get(V1 + "/campaigns/:id/events")
                .handler(read)
                .handler(this::leaderOnly)
                .handler(this::events);
        router.get(V1 + "/campaigns/:id/requests").handler(read).handler(this::listRequests);
        router.post(V1 + "/plan").handler(read).handler(this::plan);
        // The whole fleet's inventory: written off the event loop, as a page may be large.
        router.get(V1 + "/inventory").handler(read).handler(this::listInventory);

        write(router, V1 + "/campaigns", "submit", Role.Permission.OPERATE).handler(this::submit);
        write(router, V1 + "/campaigns/:id/cancel", "cancel", Role.Permission.OPERATE)
                .handler(ctx -> replyFound(ctx, campaigns.cancel(ctx.pathParam("id"), actor(ctx))));
        write(router, V1 + "/campaigns/:id/pause", "pause", Role.Permission.OPERATE)
                .handler(ctx -> replyFound(ctx, campaigns.pause(ctx.pathParam("id"), actor(ctx))));
        write(router, V1 + "/campaigns/:id/resume", "resume", Role.Permission.OPERATE)
                .handler(ctx -> replyFound(ctx, campaigns.resume(ctx.pathParam("id"), actor(ctx))));
        write(router, V1 + "/campaigns/:id/approve", "approve", Role.Permission.OPERATE)
                .handler(ctx -> replyFound(
                        ctx,
                        campaigns.approve(ctx.pathParam("id"), ctx.queryParams().get("recovery"), actor(ctx))));
        write(router, V1 + "/backup-events", "backup-event", Role.Permission.POST_BACKUP_EVENTS)
                .handler(this::backupEvent);
        return router;
    }

    /**
     * A state-changing route: audited (refusals too), allowed by {@code permission}, taken by the leader only,
     * rate-limited.
     */
    private Route write(Router router, String path, String action, Role.Permission permission) {
        return router.post(path)
                .handler(ctx -> {
                    ctx.addBodyEndHandler(v -> audit(ctx, action));
                    ctx.next();
                })
                .handler(security.require(permission))
                // Before the rate limit: a call a standby turns away does not count against the caller.
                .handler(this::leaderOnly)
                .handler(security.writeLimit());
    }

    /**
     * Only the leader changes state: a standby answers 503 with the leader's name and URL (and
     * {@code Retry-After}, since a takeover may be under way), which {@code chainmerge campaign} follows.
     */
    private void leaderOnly(RoutingContext ctx) {
        if (leadership.leading()) {
            ctx.next();
            return;
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("error", "not-leader");
        extra.put("role", leadership.role().wireName());
        leadership.leader().ifPresent(leader -> extra.put("leader", leader));
        ctx.response().putHeader("Retry-After", "2");
        problems.send(
                ctx,
                503,
                leadership
                        .leader()
                        .map(leader -> "coordinator " + leadership.self() + " stands by; " + leader.coordinator()
                                + " leads and takes writes at " + leader.url())
                        .orElse("coordinator " + leadership.self() + " stands by and knows no leader yet; try again"),
                extra);
    }

    private void audit(RoutingContext ctx, String action) {
        Principals.Principal principal = ApiSecurity.principal(ctx);
        String campaignId = ctx.get(AUDIT_CAMPAIGN, ctx.pathParam("id"));
        int status = ctx.response().getStatusCode();
        String detail = ctx.get(AUDIT_DETAIL);
        audit.record(new AuditRecord(
                Schema.VERSION,
                clock.instant(),
                principal.name(),
                principal.rolesText(),
                address(ctx),
                action,
                Problems.request(ctx),
                campaignId,
                status,
                detail != null ? detail : ctx.response().getStatusMessage()));
    }

    private static String address(RoutingContext ctx) {
        SocketAddress remote = ctx.request().remoteAddress();
        return remote == null ? null : remote.hostAddress();
    }

    private static Actor actor(RoutingContext ctx) {
        return new Actor(ApiSecurity.principal(ctx).name(), address(ctx));
    }

    /**
     * The spec in the request's body, checked against its published schema, or null after answering 400 with
     * the reason (naming the fields at fault, also as {@code fields}).
     */
    private CampaignSpec specOf(RoutingContext ctx) {
        try {
            return specSchema.read(ctx.body().asString());
        } catch (InvalidCampaignSpecException e) {
            problems.send(ctx, 400, e.getMessage(), Map.of("fields", e.fields()));
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
        // Off the event loop: a plan over a large fleet's inventory takes long enough to stall every other call.
        vertx.executeBlocking(() -> plan(spec), false)
                .onSuccess(plan -> send(ctx, 200, plan))
                .onFailure(error -> problems.internal(ctx, error));
    }

    private Planner.Plan plan(CampaignSpec spec) {
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
        return new Planner.Plan(plan.jobs(), skips, plan.recoveries());
    }

    private void submit(RoutingContext ctx) {
        CampaignSpec spec = specOf(ctx);
        if (spec == null) {
            return;
        }
        campaigns.submit(spec, actor(ctx)).whenComplete((id, error) -> {
            if (notRecorded(ctx, error)) {
                return;
            }
            if (error != null) {
                problems.internal(ctx, error);
            } else {
                ctx.put(AUDIT_CAMPAIGN, id);
                ctx.put(AUDIT_DETAIL, "submitted " + spec.name() + " for pools " + spec.pools());
                ctx.response().putHeader("Location", V1 + "/campaigns/" + id);
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
        Principals.Principal principal = ApiSecurity.principal(ctx);
        if (!principal.roles().contains(Role.ADMIN) && !event.source().equals(principal.source())) {
            problems.send(
                    ctx,
                    403,
                    "principal " + principal.name() + " posts backup events for source " + principal.source()
                            + " only, not for " + event.source());
            return;
        }
        if (!configuredSource.test(event.source())) {
            rejectBackupEvent(ctx, BackupEvents.unknownSource(event));
            return;
        }
        campaigns.accept(event).whenComplete((requestId, error) -> {
            if (error != null) {
                Throwable cause =
                        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                LOG.warn("backup request {} could not be recorded: {}", event.requestId(), cause.toString());
                problems.send(
                        ctx,
                        503,
                        "the request could not be recorded, send it again: " + cause.getMessage(),
                        Map.of("error", "unavailable"));
            } else {
                ctx.put(AUDIT_DETAIL, "backup request " + requestId + " from " + event.source());
                send(ctx, 202, Map.of("requestId", requestId));
            }
        });
    }

    private void rejectBackupEvent(RoutingContext ctx, InvalidBackupEvent invalid) {
        // error and message as before problems: backup systems read the reason there (docs/backup-integration.md).
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("error", invalid.reason());
        answer.put("message", invalid.getMessage());
        if (invalid.requestId() != null) {
            answer.put("requestId", invalid.requestId());
        }
        notifier.invalid(invalid, "POST " + V1 + "/backup-events")
                .whenComplete((ok, error) -> problems.send(ctx, 400, invalid.getMessage(), answer));
    }

    /**
     * {@code GET /v1/campaigns/{id}/events}: the campaign's report, then its changes as they happen, as
     * Server-Sent Events, until it is over ({@link CampaignStreams}).
     */
    private void events(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        Context context = vertx.getOrCreateContext();
        CampaignStreams.Subscriber subscriber = campaigns.streams().subscriber(id, ctx.request(), context, events);
        campaigns
                .subscribe(id, ctx.request().getHeader("Last-Event-ID"), subscriber)
                .whenComplete((found, error) -> context.runOnContext(v -> {
                    if (error != null) {
                        problems.internal(ctx, error);
                    } else if (!found) {
                        problems.send(ctx, 404, "no campaign " + id);
                    } else {
                        subscriber.start(vertx);
                    }
                }));
    }

    /** {@code GET /v1/campaigns?limit=&after=&state=}: a page of campaigns summed up, by id. */
    private void listCampaigns(RoutingContext ctx) {
        Page.Request request;
        Set<CampaignState> states;
        try {
            request = pageRequest(ctx);
            states = wireNamed(ctx, "state", CampaignState.class, CampaignState::wireName);
        } catch (IllegalArgumentException e) {
            problems.send(ctx, 400, e.getMessage());
            return;
        }
        campaigns.page(request, states).whenComplete((page, error) -> {
            if (error != null) {
                problems.internal(ctx, error);
            } else {
                sendPage(ctx, page);
            }
        });
    }

    /** {@code GET /v1/campaigns/{id}/requests?limit=&after=&status=}: a page of a campaign's backup requests. */
    private void listRequests(RoutingContext ctx) {
        Page.Request request;
        Set<BackupRequest.Status> statuses;
        try {
            request = pageRequest(ctx);
            statuses = wireNamed(ctx, "status", BackupRequest.Status.class, BackupRequest.Status::wireName);
        } catch (IllegalArgumentException e) {
            problems.send(ctx, 400, e.getMessage());
            return;
        }
        campaigns.requests(ctx.pathParam("id"), request, statuses).whenComplete((page, error) -> {
            if (error != null) {
                problems.internal(ctx, error);
            } else if (page.isEmpty()) {
                problems.send(ctx, 404, "no campaign " + ctx.pathParam("id"));
            } else {
                sendPage(ctx, page.get());
            }
        });
    }

    /**
     * The values of query parameter {@code parameter} (repeated, or comma-separated) as the constants of {@code
     * type} whose wire names they are; refuses one that names none, listing those there are.
     */
    private static <E extends Enum<E>> Set<E> wireNamed(
            RoutingContext ctx, String parameter, Class<E> type, Function<E, String> wireName) {
        Set<E> named = EnumSet.noneOf(type);
        for (String value : ctx.queryParam(parameter)) {
            for (String name : value.split(",")) {
                E constant = Arrays.stream(type.getEnumConstants())
                        .filter(c -> wireName.apply(c).equals(name.strip()))
                        .findFirst()
                        .orElseThrow(() -> new IllegalArgumentException(parameter + " must be one of "
                                + Arrays.stream(type.getEnumConstants())
                                        .map(wireName)
                                        .toList()
                                + ", not '" + name.strip() + "'"));
                named.add(constant);
            }
        }
        return named;
    }

    /** {@code GET /v1/inventory?limit=&after=&pool=&host=}: a page of volumes' latest space checks, by host and volume. */
    private void listInventory(RoutingContext ctx) {
        Page.Request request;
        try {
            request = pageRequest(ctx);
        } catch (IllegalArgumentException e) {
            problems.send(ctx, 400, e.getMessage());
            return;
        }
        List<String> pools = ctx.queryParam("pool");
        List<String> hosts = ctx.queryParam("host");
        vertx.executeBlocking(
                        () -> inventory.page(
                                request,
                                volume -> (pools.isEmpty() || pools.contains(volume.pool()))
                                        && (hosts.isEmpty() || hosts.contains(volume.host()))),
                        false)
                .onSuccess(page -> sendPage(ctx, page))
                .onFailure(error -> problems.internal(ctx, error));
    }

    private static Page.Request pageRequest(RoutingContext ctx) {
        return Page.Request.of(ctx.queryParams().get("limit"), ctx.queryParams().get("after"));
    }

    /** A page, with its next page's address also in a {@code Link} header (RFC 8288). */
    private void sendPage(RoutingContext ctx, Page<?> page) {
        if (page.next() != null) {
            MultiMap query = MultiMap.caseInsensitiveMultiMap();
            query.addAll(ctx.queryParams());
            query.set("after", page.next());
            StringBuilder link = new StringBuilder(ctx.request().path()).append('?');
            query.forEach(e -> link.append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                    .append('&'));
            link.setLength(link.length() - 1);
            ctx.response().putHeader("Link", "<" + link + ">; rel=\"next\"");
        }
        send(ctx, 200, page);
    }

    private void replyFound(RoutingContext ctx, CompletableFuture<Optional<CampaignReport>> value) {
        value.whenComplete((v, error) -> {
            Throwable cause = error instanceof CompletionException ? error.getCause() : error;
            if (cause instanceof IllegalArgumentException refused) {
                problems.send(ctx, 409, refused.getMessage());
            } else if (notRecorded(ctx, error)) {
                return;
            } else if (error != null) {
                problems.internal(ctx, error);
            } else if (v.isEmpty()) {
                problems.send(ctx, 404, "no campaign " + ctx.pathParam("id"));
            } else {
                CampaignReport report = v.get();
                // What the audit record of a change says it left: the campaign's state after it.
                ctx.put(
                        AUDIT_DETAIL,
                        "campaign " + report.campaignId() + " is "
                                + report.state().wireName() + (report.paused() ? ", paused" : ""));
                send(ctx, 200, report);
            }
        });
    }

    /**
     * Answers 503 when a change could not be committed (this replica lost its leadership meanwhile): the caller
     * learns it was not done, and may look (a submission, by its name) before trying again.
     */
    private boolean notRecorded(RoutingContext ctx, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof Campaigns.NotRecordedException notRecorded)) {
            return false;
        }
        LOG.warn("{} {}: {}", ctx.request().method(), ctx.request().path(), notRecorded.getMessage());
        problems.send(ctx, 503, notRecorded.getMessage(), Map.of("error", "not-recorded"));
        return true;
    }

    private void send(RoutingContext ctx, int status, Object body) {
        String text = json.write(body);
        ctx.response()
                .setStatusCode(status)
                .putHeader("content-type", "application/json")
                .end(text);
    }
}
