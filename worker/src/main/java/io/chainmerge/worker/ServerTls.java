package io.chainmerge.worker;

import io.chainmerge.common.security.TlsFiles;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's HTTP server speaks TLS with the PEM files of {@code tls.certificate} and {@code tls.key},
 * and takes renewed files without a restart: when their modification time or size changes, the server
 * swaps them in for new connections (a broken pair is refused and the old one stays in service).
 */
final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    static final Duration RELOAD_CHECK = Duration.ofSeconds(1);

    private ServerTls() {}

    static HttpServerOptions options(TlsFiles tls) {
        HttpServerOptions options = new HttpServerOptions();
        if (tls.serves()) {
            options.setSsl(true).setKeyCertOptions(keyCert(tls));
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
            reload(server, tls, "changed");
        });
    }

    /**
     * Reads the certificate and key again and serves them to new connections; files that cannot be used are
     * refused, logged at ERROR, and the earlier certificate stays in service.
     *
     * @param why what made it read them ({@code changed}, {@code SIGHUP}), for the log
     * @return whether the files read are in service now (false without TLS)
     */
    static Future<Boolean> reload(HttpServer server, TlsFiles tls, String why) {
        if (!tls.serves()) {
            return Future.succeededFuture(false);
        }
        return server.updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert(tls)), true)
                .map(updated -> {
                    LOG.info("TLS ({}): reloaded {} and {}", why, tls.certificate(), tls.key());
                    return true;
                })
                .recover(e -> {
                    LOG.error(
                            "TLS ({}): {} and {} cannot be used; the earlier certificate stays: {}",
                            why,
                            tls.certificate(),
                            tls.key(),
                            e.toString());
                    return Future.succeededFuture(false);
                });
    }

    private static PemKeyCertOptions keyCert(TlsFiles tls) {
        return new PemKeyCertOptions()
                .setCertPath(tls.certificate().toString())
                .setKeyPath(tls.key().toString());
    }
}
