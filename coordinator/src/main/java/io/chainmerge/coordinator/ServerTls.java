package io.chainmerge.coordinator;

import io.chainmerge.common.security.TlsFiles;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's HTTP API speaks TLS with the PEM files of {@code tls.certificate} and {@code tls.key},
 * and takes renewed files without a restart: when their modification time or size changes, the server
 * swaps them in for new connections (a broken pair is refused and the old one stays in service). With
 * {@code tls.client-ca} (the {@link TlsFiles#ca()} of the coordinator's files) it asks every caller for a
 * client certificate, verified against that bundle by the TLS handshake; a caller without one still
 * connects (probes, token callers), and a certificate that does not verify ends the handshake.
 */
final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    static final Duration RELOAD_CHECK = Duration.ofSeconds(1);

    private ServerTls() {}

    static HttpServerOptions options(TlsFiles tls) {
        HttpServerOptions options = new HttpServerOptions();
        if (tls.serves()) {
            options.setSsl(true).setKeyCertOptions(keyCert(tls));
            if (tls.trusts()) {
                options.setTrustOptions(clientCas(tls)).setClientAuth(ClientAuth.REQUEST);
            }
        }
        return options;
    }

    /** Checks the files every {@link #RELOAD_CHECK}; returns the timer, to cancel. */
    static long reloadOnChange(Vertx vertx, HttpServer server, TlsFiles tls) {
        if (!tls.serves()) {
            return -1;
        }
        AtomicReference<List<Object>> loaded = new AtomicReference<>(tls.version());
        return vertx.setPeriodic(RELOAD_CHECK.toMillis(), id -> {
            List<Object> now = tls.version();
            if (now.equals(loaded.getAndSet(now))) {
                return;
            }
            ServerSSLOptions renewed = new ServerSSLOptions().setKeyCertOptions(keyCert(tls));
            if (tls.trusts()) {
                renewed.setTrustOptions(clientCas(tls)).setClientAuth(ClientAuth.REQUEST);
            }
            server.updateSSLOptions(renewed, true)
                    .onSuccess(updated -> LOG.info("TLS: reloaded {} and {}", tls.certificate(), tls.key()))
                    .onFailure(e -> LOG.error(
                            "TLS: {} and {} changed but cannot be used; the earlier certificate stays: {}",
                            tls.certificate(),
                            tls.key(),
                            e.toString()));
        });
    }

    private static PemTrustOptions clientCas(TlsFiles tls) {
        return new PemTrustOptions().addCertPath(tls.ca().toString());
    }

    private static PemKeyCertOptions keyCert(TlsFiles tls) {
        return new PemKeyCertOptions()
                .setCertPath(tls.certificate().toString())
                .setKeyPath(tls.key().toString());
    }
}
