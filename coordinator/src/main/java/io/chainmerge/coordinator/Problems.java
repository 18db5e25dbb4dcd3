package io.chainmerge.coordinator;

import io.chainmerge.common.json.JsonCodec;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error of the coordinator's API as {@code application/problem+json} (RFC 9457): {@code type} (a
 * {@code urn:chainmerge:problem:} name that stays), {@code title}, {@code status}, {@code detail}. A detail
 * is written for people and never carries a Java exception's class name; an unexpected failure is logged
 * with a reference the answer gives.
 */
final class Problems {
    private static final Logger LOG = LoggerFactory.getLogger(Problems.class);
    static final String CONTENT_TYPE = "application/problem+json";
    static final String TYPE_PREFIX = "urn:chainmerge:problem:";

    private final JsonCodec json;

    Problems(JsonCodec json) {
        this.json = json;
    }

    /** The stable name and title of each status the API answers with. */
    static String name(int status) {
        return switch (status) {
            case 400 -> "invalid-request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 409 -> "conflict";
            case 413 -> "body-too-large";
            case 415 -> "unsupported-media-type";
            case 429 -> "too-many-requests";
            case 503 -> "unavailable";
            default -> status >= 500 ? "internal-error" : "http-" + status;
        };
    }

    static String title(int status) {
        return switch (status) {
            case 400 -> "Invalid request";
            case 401 -> "Authentication required";
            case 403 -> "Not allowed";
            case 404 -> "Not found";
            case 405 -> "Method not allowed";
            case 409 -> "Conflict";
            case 413 -> "Request body too large";
            case 415 -> "Unsupported media type";
            case 429 -> "Too many requests";
            case 503 -> "Unavailable";
            default -> status >= 500 ? "Internal error" : "HTTP " + status;
        };
    }

    /** Answers with a problem; {@code extensions} are extra members (RFC 9457 §3.2), e.g. a backup event's reason. */
    void send(RoutingContext ctx, int status, String detail, Map<String, Object> extensions) {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", TYPE_PREFIX + name(status));
        problem.put("title", title(status));
        problem.put("status", status);
        problem.put("detail", detail);
        problem.putAll(extensions);
        if (status == 401) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"chainmerge\"");
        }
        ctx.put(CoordinatorHttp.AUDIT_DETAIL, detail);
        ctx.response()
                .setStatusCode(status)
                .putHeader("content-type", CONTENT_TYPE)
                .end(json.write(problem));
    }

    void send(RoutingContext ctx, int status, String detail) {
        send(ctx, status, detail, Map.of());
    }

    /** The router's failure handler: whatever failed, the caller gets a problem. */
    void onFailure(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        Throwable failure = ctx.failure();
        int status = failure instanceof HttpException http ? http.getStatusCode() : ctx.statusCode();
        if (status < 400) {
            status = 500;
        }
        String detail;
        if (failure instanceof HttpException http && http.getPayload() != null) {
            detail = http.getPayload();
        } else if (status == 403) {
            detail = ctx.get(ApiSecurity.DENIED_DETAIL, "this principal's roles do not allow " + request(ctx));
        } else if (status == 401) {
            detail = "send a principal's token: Authorization: Bearer TOKEN (docs/security.md)";
        } else if (status == 413) {
            detail = "the request body is larger than this coordinator's http.body-limit";
        } else if (status >= 500) {
            internal(ctx, failure);
            return;
        } else {
            detail = title(status) + ": " + request(ctx);
        }
        send(ctx, status, detail);
    }

    /** An unexpected failure: logged with a reference the answer gives, never shown to the caller. */
    void internal(RoutingContext ctx, Throwable error) {
        String reference = UUID.randomUUID().toString();
        LOG.error("{} failed (reference {})", request(ctx), reference, error);
        send(
                ctx,
                500,
                "the coordinator failed to answer " + request(ctx) + "; its log says why under reference " + reference);
    }

    static String request(RoutingContext ctx) {
        return ctx.request().method().name() + " " + ctx.request().path();
    }
}
