package io.chainmerge.common.log;

import io.chainmerge.common.message.Job;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.MDC;

/**
 * What a log line concerns, in SLF4J's MDC: the campaign, the job, the pool and the worker. The MDC belongs to a
 * thread, and the daemons' work hops between threads (Vert.x event loops, worker executors, Kafka callbacks), so a
 * context is opened inside the code that runs and closed when it returns; closing puts back what was there before,
 * so nothing leaks to the next task on the same thread.
 */
public final class LogContext implements AutoCloseable {
    public static final String CAMPAIGN = "campaignId";
    public static final String JOB = "jobId";
    public static final String POOL = "pool";
    public static final String WORKER = "worker";

    private final Map<String, String> previous = new LinkedHashMap<>();

    private LogContext(Map<String, String> values) {
        values.forEach((key, value) -> {
            previous.put(key, MDC.get(key));
            if (value == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, value);
            }
        });
    }

    /** A job as the worker runs it. */
    public static LogContext ofJob(Job job, String worker) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(CAMPAIGN, job.campaignId());
        values.put(JOB, job.jobId());
        values.put(POOL, job.pool());
        values.put(WORKER, worker);
        return new LogContext(values);
    }

    /** A campaign as the coordinator handles it. */
    public static LogContext ofCampaign(String campaignId) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(CAMPAIGN, campaignId);
        return new LogContext(values);
    }

    /** One job of a campaign, as the coordinator handles its result. */
    public static LogContext ofResult(String campaignId, String jobId, String pool, String worker) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(CAMPAIGN, campaignId);
        values.put(JOB, jobId);
        values.put(POOL, pool);
        values.put(WORKER, worker);
        return new LogContext(values);
    }

    @Override
    public void close() {
        previous.forEach((key, value) -> {
            if (value == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, value);
            }
        });
    }
}
