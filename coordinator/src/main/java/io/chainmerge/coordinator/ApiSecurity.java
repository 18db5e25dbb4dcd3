package io.chainmerge.coordinator;

import io.chainmerge.coordinator.Principals.Principal;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authorization.Authorization;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import io.vertx.ext.web.handler.AuthorizationHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.handler.SimpleAuthenticationHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Who calls the API and what they may do, on Vert.x's own pieces: a bearer-token {@link
 * SimpleAuthenticationHandler} that turns a token into a {@link User} carrying its roles' permissions, an
 * {@link AuthorizationHandler} per route for the one permission it asks, and a write rate limit per principal.
 */
final class ApiSecurity {
    /** Routing-context keys. */
    static final String PRINCIPAL = "chainmerge.principal";

    static final String DENIED_DETAIL = "chainmerge.denied";

    private static final String PROVIDER = "chainmerge-principals";
    private static final String BEARER = "bearer ";
    /** The caller in insecure mode without a token. */
    static final Principal ANONYMOUS = new Principal("anonymous", Set.of(Role.ADMIN), null, new byte[0]);

    private final Principals principals;
    private final boolean insecure;
    private final WriteRateLimit writes;
    /** JWTs of an OIDC issuer, or null when none is configured. */
    private final OidcTokens oidc;

    ApiSecurity(Principals principals, boolean insecure, WriteRateLimit writes) {
        this(principals, insecure, writes, null);
    }

    ApiSecurity(Principals principals, boolean insecure, WriteRateLimit writes, OidcTokens oidc) {
        this.principals = principals;
        this.insecure = insecure;
        this.writes = writes;
        this.oidc = oidc;
    }

    /**
     * Answers 401 unless the request carries a known principal's token, or comes without one over a connection
     * whose client certificate names a principal (in insecure mode: unless a given token or certificate is
     * unknown). A token, when given, decides: it is checked even on a connection with a certificate.
     */
    AuthenticationHandler authentication() {
        return SimpleAuthenticationHandler.create().authenticate(this::authenticate);
    }

    private Future<User> authenticate(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null || header.isBlank()) {
            Optional<X509Certificate> certificate = clientCertificate(ctx);
            if (certificate.isPresent()) {
                return principals
                        .authenticate(certificate.get())
                        .map(p -> Future.succeededFuture(user(ctx, p)))
                        .orElseGet(() -> Future.failedFuture(new HttpException(
                                401,
                                "the client certificate ("
                                        + certificate
                                                .get()
                                                .getSubjectX500Principal()
                                                .getName()
                                        + ") names no principal of this coordinator; a principals-file entry names "
                                        + "it by certificate: SUBJECT or DNS:/URI:/EMAIL:/IP: (docs/security.md)")));
            }
            return insecure
                    ? Future.succeededFuture(user(ctx, ANONYMOUS))
                    : Future.failedFuture(new HttpException(
                            401,
                            "this API needs a principal's token: send Authorization: Bearer TOKEN "
                                    + "(docs/security.md)"));
        }
        if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Future.failedFuture(new HttpException(401, "the Authorization header must be Bearer TOKEN"));
        }
        String token = header.substring(BEARER.length()).strip();
        Optional<Principal> principal = principals.authenticate(token);
        if (principal.isEmpty() && oidc != null && OidcTokens.looksLikeJwt(token)) {
            return oidc.authenticate(token).map(p -> user(ctx, p));
        }
        return principal
                .map(p -> Future.succeededFuture(user(ctx, p)))
                .orElseGet(() -> Future.failedFuture(new HttpException(
                        401, "the token is not a principal's of this coordinator (revoked, or mistyped)")));
    }

    /**
     * The certificate the caller presented, if any: only a connection to a coordinator with {@code tls.client-ca}
     * asks for one, and the handshake has verified it against that bundle.
     */
    private static Optional<X509Certificate> clientCertificate(RoutingContext ctx) {
        HttpConnection connection = ctx.request().connection();
        if (connection == null || !connection.isSsl()) {
            return Optional.empty();
        }
        try {
            List<Certificate> chain = connection.peerCertificates();
            return chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate leaf)
                    ? Optional.empty()
                    : Optional.of(leaf);
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    private static User user(RoutingContext ctx, Principal principal) {
        ctx.put(PRINCIPAL, principal);
        User user = User.create(new JsonObject()
                .put("username", principal.name())
                .put(
                        "roles",
                        new JsonArray(
                                principal.roles().stream().map(Role::wireName).toList())));
        Set<Role.Permission> granted = EnumSet.noneOf(Role.Permission.class);
        principal.roles().forEach(r -> granted.addAll(r.permissions()));
        user.authorizations()
                .put(
                        PROVIDER,
                        granted.stream().map(Role.Permission::authorization).collect(Collectors.toSet()));
        return user;
    }

    /** Lets the request on only if its principal's roles grant {@code permission}; else 403. */
    Handler<RoutingContext> require(Role.Permission permission) {
        Authorization wanted = permission.authorization();
        AuthorizationHandler check = AuthorizationHandler.create(wanted);
        return ctx -> {
            Principal principal = principal(ctx);
            ctx.put(
                    DENIED_DETAIL,
                    "principal " + principal.name() + " (" + principal.rolesText() + ") may not "
                            + permission.wireName() + " (" + Problems.request(ctx) + "); docs/security.md lists "
                            + "what each role may do");
            check.handle(ctx);
        };
    }

    /** Answers 429 with Retry-After when the principal made too many state-changing calls of late. */
    Handler<RoutingContext> writeLimit() {
        return ctx -> {
            Principal principal = principal(ctx);
            String key = principal == ANONYMOUS
                    ? "anonymous@" + ctx.request().remoteAddress().hostAddress()
                    : principal.name();
            Optional<Duration> wait = writes.take(key);
            if (wait.isPresent()) {
                long seconds = Math.max(1, (wait.get().toMillis() + 999) / 1000);
                ctx.response().putHeader("Retry-After", String.valueOf(seconds));
                ctx.fail(new HttpException(
                        429,
                        "principal " + principal.name() + " made more state-changing calls than security.write-rate "
                                + "allows; try again in " + seconds + " s"));
                return;
            }
            ctx.next();
        };
    }

    static Principal principal(RoutingContext ctx) {
        Principal principal = ctx.get(PRINCIPAL);
        return principal == null ? ANONYMOUS : principal;
    }
}
