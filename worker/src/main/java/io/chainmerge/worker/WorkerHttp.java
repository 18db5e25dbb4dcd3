package io.chainmerge.worker;

import io.chainmerge.common.kafka.PollLoops;
import io.chainmerge.common.security.TlsFiles;
import io.chainmerge.disk.inuse.InUseCheck;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * {@code /health} (the process runs), {@code /ready} (the broker answers, the consumer is in its
 * group, every volume is readable) and {@code /metrics} (Prometheus). Checks that touch the network or
 * the disks run off the event loop. The same server carries the transfers of transplants between
 * workers ({@link TransferServer}). With {@code tls.certificate} and {@code tls.key} it speaks only HTTPS.
 */
final class WorkerHttp {
    private WorkerHttp() {}

    static Future<HttpServer> start(
            Vertx vertx,
            WorkerConfig config,
            VolumeRoots roots,
            Admin admin,
            WorkerMetrics metrics,
            JobConsumer consumer,
            PollLoops loops,
            TransferServer transfers,
            InUseCheck inUse) {
        Router router = Router.router(vertx);
        transfers.mount(router);
        router.get("/health")
                .handler(ctx -> ctx.json(new JsonObject()
                        .put("status", "up")
                        .put("worker", config.workerId())
                        .put("pool", config.pool())));
        router.get("/ready").handler(ctx -> vertx.executeBlocking(() -> readiness(roots, admin, consumer, loops, inUse))
                .onSuccess(status -> ctx.response()
                        .setStatusCode(status.getBoolean("ready") ? 200 : 503)
                        .putHeader("content-type", "application/json")
                        .end(status.encode()))
                .onFailure(ctx::fail));
        router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape)
                .onSuccess(text -> ctx.response()
                        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(text))
                .onFailure(ctx::fail));
        TlsFiles tls = config.security().tls();
        return vertx.createHttpServer(ServerTls.options(tls))
                .requestHandler(router)
                .listen(config.httpPort(), config.httpHost())
                .onSuccess(server -> ServerTls.reloadOnChange(vertx, server, tls));
    }

    private static JsonObject readiness(
            VolumeRoots roots, Admin admin, JobConsumer consumer, PollLoops loops, InUseCheck inUse) {
        boolean kafka;
        String kafkaProblem = null;
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000))
                    .clusterId()
                    .get(3, TimeUnit.SECONDS);
            kafka = consumer.hasPolled();
            if (!kafka) {
                kafkaProblem = "the job consumer has not joined its group yet";
            }
        } catch (Exception e) {
            kafka = false;
            kafkaProblem = "the broker does not answer: " + e;
        }
        if (loops.death().isPresent()) {
            kafka = false;
            kafkaProblem = loops.death().get();
        }
        JsonObject volumes = new JsonObject();
        boolean volumesReadable = true;
        for (Path root : roots.roots()) {
            boolean readable = Files.isDirectory(root) && Files.isReadable(root);
            volumes.put(root.toString(), readable);
            volumesReadable &= readable;
        }
        return new JsonObject()
                .put("ready", kafka && volumesReadable)
                .put("kafka", kafka)
                .put("kafkaProblem", kafkaProblem)
                .put("volumes", volumes)
                // A probe that cannot look refuses (or not, as in-use.unavailable says) every job it is asked
                // about; the operator sees which here.
                .put("inUseProbes", new JsonObject(new java.util.LinkedHashMap<String, Object>(inUse.status())));
    }
}
