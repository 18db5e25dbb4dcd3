package io.chainmerge.common.message;

/**
 * The worker that holds a transplant's files when it is not the worker running the job: the receiving
 * worker pulls them from {@code url}, that worker's HTTP server (the port of its {@code /health}).
 *
 * @param pool the source worker's pool
 * @param worker the source worker's id ({@code worker.id}); the source serves the files only with a
 *     capability issued for this id
 * @param url the source worker's HTTP base URL, e.g. {@code https://storage-a:8081}; the receiving worker
 *     pulls from it only when the job's capability names the same URL
 */
public record TransplantSource(String pool, String worker, String url) {
    public TransplantSource {
        Schema.poolName(pool, "source.pool");
        Schema.require(worker, "source.worker");
        Schema.require(url, "source.url");
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("source.url must be an http:// or https:// URL: " + url);
        }
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
    }
}
