package io.chainmerge.coordinator;

import io.chainmerge.common.security.PemFiles;
import io.chainmerge.coordinator.Principals.Principal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.handler.HttpException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies JWTs of an OIDC issuer with Vert.x's {@link JWTAuth}, against the keys the issuer publishes at its
 * JWKS URL: signature, expiry, {@code iss} and {@code aud}. The keys are read at start, every {@link #REFRESH},
 * and soon after a token names a key id not among them (the issuer rotated its keys). Until a key set was read,
 * no JWT is taken: a verifier without keys would take unsigned ones.
 */
final class OidcTokens implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OidcTokens.class);
    static final Duration REFRESH = Duration.ofMinutes(5);
    /** The earliest a token with an unknown key id fetches the keys again, and the retry while none were read. */
    static final Duration RETRY = Duration.ofSeconds(15);

    private final Vertx vertx;
    private final OidcSettings settings;
    private final HttpClient http;
    private final Clock clock;
    private volatile JWTAuth verifier;
    private volatile Set<String> keyIds = Set.of();
    private volatile Instant lastFetch = Instant.EPOCH;
    private final long timer;

    OidcTokens(Vertx vertx, OidcSettings settings, Clock clock) throws java.io.IOException {
        this.vertx = vertx;
        this.settings = settings;
        this.clock = clock;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (settings.ca() != null) {
            builder.sslContext(PemFiles.trusting(settings.ca()));
        }
        this.http = builder.build();
        fetch();
        this.timer = vertx.setPeriodic(RETRY.toMillis(), id -> {
            Duration since = Duration.between(lastFetch, clock.instant());
            if (verifier == null || since.compareTo(REFRESH) >= 0) {
                vertx.executeBlocking(this::fetch, false);
            }
        });
    }

    /** Reads the key set; a failure keeps the keys read before, and is logged. */
    private boolean fetch() {
        lastFetch = clock.instant();
        try {
            HttpResponse<String> answer = http.send(
                    HttpRequest.newBuilder(settings.jwksUrl())
                            .timeout(Duration.ofSeconds(10))
                            .header("Accept", "application/json")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                throw new IllegalStateException("answered " + answer.statusCode());
            }
            JsonArray keys = new JsonObject(answer.body()).getJsonArray("keys");
            List<JsonObject> signing = new ArrayList<>();
            for (int i = 0; keys != null && i < keys.size(); i++) {
                JsonObject key = keys.getJsonObject(i);
                // Keys for signatures only; a key without "alg" cannot be matched to a token safely.
                if (key.getString("alg") != null && !"enc".equals(key.getString("use"))) {
                    signing.add(key);
                }
            }
            if (signing.isEmpty()) {
                throw new IllegalStateException("holds no signing key with an alg");
            }
            JWTOptions expected = new JWTOptions()
                    .setIssuer(settings.issuer())
                    .setAudience(List.of(settings.audience()))
                    .setLeeway(30);
            verifier =
                    JWTAuth.create(vertx, new JWTAuthOptions().setJwks(signing).setJWTOptions(expected));
            keyIds = signing.stream()
                    .map(k -> k.getString("kid"))
                    .filter(k -> k != null)
                    .collect(Collectors.toUnmodifiableSet());
            LOG.info("OIDC: {} signing keys from {}", signing.size(), settings.jwksUrl());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            LOG.error(
                    "OIDC: cannot read the signing keys at {} ({}); {}",
                    settings.jwksUrl(),
                    e.getMessage(),
                    verifier == null ? "no JWT is taken until they are read" : "the keys read before stay");
            return false;
        }
    }

    /** Whether {@code token} is shaped as a JWT (three base64url parts), not a chainmerge token. */
    static boolean looksLikeJwt(String token) {
        return token.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
    }

    /** The principal a valid JWT names, with the chainmerge roles of its roles claim; else a 401. */
    Future<Principal> authenticate(String jwt) {
        JWTAuth current = verifier;
        if (current == null) {
            return Future.failedFuture(
                    new HttpException(
                            401,
                            "the OIDC issuer's keys could not be read yet, so no JWT is taken; try a token of the principals file"));
        }
        JsonObject header;
        try {
            header = new JsonObject(new String(
                    Base64.getUrlDecoder().decode(jwt.substring(0, jwt.indexOf('.'))), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return Future.failedFuture(new HttpException(401, "the token is neither a principal's nor a valid JWT"));
        }
        String kid = header.getString("kid");
        if (kid != null
                && !keyIds.contains(kid)
                && Duration.between(lastFetch, clock.instant()).compareTo(RETRY) >= 0) {
            // A key the issuer added since the last read: read again, for this token's next try.
            vertx.executeBlocking(this::fetch, false);
        }
        return current.authenticate(new TokenCredentials(jwt))
                .recover(e -> Future.failedFuture(
                        new HttpException(401, "the JWT is not one this coordinator takes (" + e.getMessage() + ")")))
                .compose(this::principal);
    }

    private Future<Principal> principal(User user) {
        JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
        if (!claims.containsKey("exp")) {
            return Future.failedFuture(
                    new HttpException(401, "the JWT has no exp: a token that never expires is not taken"));
        }
        Object name = claims.getValue(settings.nameClaim());
        if (name == null || String.valueOf(name).isBlank()) {
            return Future.failedFuture(
                    new HttpException(401, "the JWT has no " + settings.nameClaim() + " to name its caller"));
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String granted : claimValues(claims, settings.rolesClaim())) {
            try {
                Role role = Role.of(granted);
                // A backup system is bound to its CloudEvent source, which only the principals file says.
                if (role != Role.BACKUP_SYSTEM) {
                    roles.add(role);
                }
            } catch (IllegalArgumentException e) {
                // The issuer's other applications' roles: not chainmerge's.
            }
        }
        return Future.succeededFuture(new Principal("oidc:" + name, Set.copyOf(roles), null, new byte[0], null));
    }

    /** The values of a claim at a dotted path: a list of names, or one string of names separated by spaces. */
    static List<String> claimValues(JsonObject claims, String path) {
        Object value = claims;
        for (String part : path.split("\\.")) {
            if (!(value instanceof JsonObject object)) {
                return List.of();
            }
            value = object.getValue(part);
        }
        if (value instanceof JsonArray array) {
            return array.stream().map(String::valueOf).toList();
        }
        if (value instanceof String text) {
            return List.of(text.strip().split("\\s+"));
        }
        return List.of();
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
    }
}
