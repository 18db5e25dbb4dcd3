package io.chainmerge.common.message;

/**
 * The worker that holds a transplant's files when it is not the worker running the job: the receiving
 * worker pulls them from {@code url}, that worker's HTTP server (the port of its {@code /health}).
 *
 * @param pool the source worker's pool
 * @param worker the source worker's id, for reports; the URL decides where the files come from
 * @param url the source worker's HTTP base URL, e.g. {@code http://storage-a:8081}
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
