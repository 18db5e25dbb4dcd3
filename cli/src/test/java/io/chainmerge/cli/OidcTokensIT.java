package io.chainmerge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.chainmerge.broker.EmbeddedKafka;
import io.chainmerge.common.config.ConfigException;
import io.chainmerge.common.security.ThrowawayPki;
import io.chainmerge.coordinator.Coordinator;
import io.chainmerge.coordinator.CoordinatorConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Principals named by JWTs of an OIDC issuer: a JWKS served over HTTPS by this test stands in for the issuer.
 * A JWT with the right issuer, audience, expiry and signature calls with the roles of its roles claim; every
 * other one is 401, an unsigned one included; a key the issuer adds later is taken without a restart.
 */
class OidcTokensIT {
    private static final String ISSUER = "https://idp.example/realms/ops";
    private static final String AUDIENCE = "chainmerge";

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Coordinator coordinator;
    static HttpsServer issuer;
    static final List<JsonObject> published = new CopyOnWriteArrayList<>();
    static final AtomicInteger fetches = new AtomicInteger();
    static KeyPair first;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        ThrowawayPki pki = ThrowawayPki.create(dir.resolve("pki"));
        ThrowawayPki.Issued tls = pki.issue("idp");
        first = rsa();
        published.add(jwk(first, "key-1"));
        issuer = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer.setHttpsConfigurator(
                new HttpsConfigurator(ClientCertificate.context(tls.certificate(), tls.key(), null)));
        issuer.createContext("/jwks", exchange -> {
            fetches.incrementAndGet();
            byte[] body = new JsonObject()
                    .put("keys", new JsonArray(List.copyOf(published)))
                    .encode()
                    .getBytes();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        issuer.start();
        coordinator = Coordinator.start(CoordinatorConfig.of(settings(pki.caBundle())));
    }

    private static Map<String, Object> settings(Path ca) {
        return Map.of(
                "http.host",
                "127.0.0.1",
                "http.port",
                0,
                "topics.replication",
                1,
                "security.principals-file",
                TestPrincipals.file().toString(),
                "security.oidc.jwks-url",
                "https://127.0.0.1:" + issuer.getAddress().getPort() + "/jwks",
                "security.oidc.issuer",
                ISSUER,
                "security.oidc.audience",
                AUDIENCE,
                "security.oidc.roles-claim",
                "realm_access.roles",
                "security.oidc.ca",
                ca.toString(),
                "kafka.bootstrap.servers",
                kafka.bootstrapServers());
    }

    @AfterAll
    static void stop() {
        if (coordinator != null) {
            coordinator.close();
        }
        issuer.stop(0);
        kafka.close();
    }

    private static KeyPair rsa() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static String base64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return base64(bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes);
    }

    private static JsonObject jwk(KeyPair keys, String kid) {
        RSAPublicKey key = (RSAPublicKey) keys.getPublic();
        return new JsonObject()
                .put("kty", "RSA")
                .put("use", "sig")
                .put("alg", "RS256")
                .put("kid", kid)
                .put("n", unsigned(key.getModulus()))
                .put("e", unsigned(key.getPublicExponent()));
    }

    /** A JWT as an issuer signs it (RS256, the JDK's signature), with these claims over the usual ones. */
    private static String jwt(KeyPair keys, String kid, JsonObject claims) throws Exception {
        JsonObject payload = new JsonObject()
                .put("iss", ISSUER)
                .put("aud", AUDIENCE)
                .put("iat", Instant.now().getEpochSecond())
                .put("exp", Instant.now().plusSeconds(300).getEpochSecond())
                .mergeIn(claims);
        payload.fieldNames().removeIf(name -> payload.getValue(name) == null);
        String signed = base64(new JsonObject()
                        .put("alg", "RS256")
                        .put("typ", "JWT")
                        .put("kid", kid)
                        .encode()
                        .getBytes(StandardCharsets.UTF_8))
                + "." + base64(payload.encode().getBytes(StandardCharsets.UTF_8));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(keys.getPrivate());
        signature.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + base64(signature.sign());
    }

    private static JsonObject caller(String name, String... roles) {
        return new JsonObject()
                .put("sub", name)
                .put("realm_access", new JsonObject().put("roles", new JsonArray(List.of(roles))));
    }

    private static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + coordinator.httpPort() + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aJwtOfTheIssuerCallsWithTheRolesOfItsClaimAndTheReportNamesIt() throws Exception {
        String viewer = jwt(first, "key-1", caller("alice", "viewer", "offline_access"));
        assertThat(call("GET", "/v1/campaigns", viewer, null).statusCode()).isEqualTo(200);
        HttpResponse<String> denied = call("POST", "/v1/campaigns", viewer, "name: x\npools: [p]\n");
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(denied.body()).contains("principal oidc:alice (viewer) may not operate");

        Path token = Files.writeString(dir.resolve("bob.jwt"), jwt(first, "key-1", caller("bob", "operator")));
        Path spec = Files.writeString(
                dir.resolve("spec.yaml"), "name: by-jwt\npools: [nobody-serves-it]\nscanTimeout: 1h\n");
        String url = "http://127.0.0.1:" + coordinator.httpPort();
        CliTest.Run submitted =
                CliTest.chainmerge("campaign", "--coordinator", url, "--token-file", token, "submit", spec);
        assertThat(submitted.exit()).as(submitted.err()).isEqualTo(ExitCodes.OK);
        CliTest.Run shown = CliTest.chainmerge(
                "campaign",
                "--coordinator",
                url,
                "--token-file",
                token,
                "show",
                submitted.out().strip());
        assertThat(shown.out()).contains("submitted by oidc:bob from 127.0.0.1");
    }

    @Test
    void everyOtherJwtIs401() throws Exception {
        KeyPair stranger = rsa();
        JsonObject admin = caller("mallory", "admin");
        String[] refused = {
            jwt(first, "key-1", admin.copy().put("aud", "another-app")),
            jwt(first, "key-1", admin.copy().put("iss", "https://idp.example/realms/other")),
            jwt(
                    first,
                    "key-1",
                    admin.copy().put("exp", Instant.now().minusSeconds(3600).getEpochSecond())),
            jwt(first, "key-1", admin.copy().put("exp", (Object) null)),
            jwt(stranger, "key-1", admin), // the issuer's key id, another key
            jwt(stranger, "key-x", admin),
            // Unsigned: alg none, no signature.
            base64(new JsonObject().put("alg", "none").encode().getBytes()) + "."
                    + base64(admin.copy()
                            .put("iss", ISSUER)
                            .put("aud", AUDIENCE)
                            .put("exp", Instant.now().plusSeconds(300).getEpochSecond())
                            .encode()
                            .getBytes())
                    + ".",
        };
        for (String token : refused) {
            HttpResponse<String> answer = call("GET", "/v1/campaigns", token, null);
            assertThat(answer.statusCode()).as(token).isEqualTo(401);
            assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(answer.body()).doesNotContain("Exception");
        }
        // What makes each one fail is its one difference: the same claims, rightly made, are taken.
        assertThat(call("GET", "/v1/campaigns", jwt(first, "key-1", admin), null)
                        .statusCode())
                .isEqualTo(200);
    }

    @Test
    void aKeyTheIssuerAddsLaterIsTakenWithoutARestart() throws Exception {
        KeyPair second = rsa();
        published.add(jwk(second, "key-2"));
        String token = jwt(second, "key-2", caller("carol", "viewer"));
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertThat(
                                call("GET", "/v1/campaigns", token, null).statusCode())
                        .isEqualTo(200));
        assertThat(fetches.get()).isGreaterThan(1);
    }

    @Test
    void anOidcIssuerNeedsHttpsAnAudienceAndAnIssuer() {
        Map<String, Object> base = Map.of(
                "security.oidc.jwks-url",
                "http://idp.example/jwks",
                "security.oidc.issuer",
                ISSUER,
                "security.oidc.audience",
                AUDIENCE,
                "kafka.bootstrap.servers",
                "127.0.0.1:1");
        assertThatThrownBy(() -> CoordinatorConfig.of(base))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("https://");
        Map<String, Object> noAudience = new java.util.HashMap<>(base);
        noAudience.put("security.oidc.jwks-url", "https://idp.example/jwks");
        noAudience.remove("security.oidc.audience");
        assertThatThrownBy(() -> CoordinatorConfig.of(noAudience))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("security.oidc.audience");
    }
}
