package io.chainmerge.cli;

import io.chainmerge.broker.TopicProbe;
import io.chainmerge.common.json.JsonCodec;
import io.chainmerge.common.message.Job;
import io.chainmerge.common.message.JobResult;
import io.chainmerge.common.message.MergeJob;
import io.chainmerge.common.message.MessageCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** What went over a pool's job topic and the results topic, as a test reads it from the broker. */
final class PublishedJobs {
    private static final MessageCodec CODEC = new MessageCodec(new JsonCodec());

    private PublishedJobs() {}

    /** Every merge job published so far (the reader keeps what it has seen). */
    static List<MergeJob> merges(TopicProbe.Reader jobs) {
        List<MergeJob> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : jobs.poll()) {
            try {
                Job job = CODEC.readJob(record.value());
                if (job instanceof MergeJob merge) {
                    out.add(merge);
                }
            } catch (Exception e) {
                // not a job this build reads
            }
        }
        return out;
    }

    /** When {@code jobId} was first published on a job topic (its producer's clock). */
    static Instant publishedAt(TopicProbe.Reader jobs, String jobId) {
        return firstTime(jobs, jobId, value -> CODEC.readJob(value).jobId());
    }

    /** When the first result of {@code jobId} was sent (its producer's clock). */
    static Instant resultAt(TopicProbe.Reader results, String jobId) {
        return firstTime(
                results, jobId, value -> CODEC.read(value, JobResult.class).jobId());
    }

    private interface JobIdOf {
        String of(byte[] value) throws Exception;
    }

    private static Instant firstTime(TopicProbe.Reader topic, String jobId, JobIdOf jobIdOf) {
        for (ConsumerRecord<String, byte[]> record : topic.poll()) {
            try {
                if (jobIdOf.of(record.value()).equals(jobId)) {
                    return Instant.ofEpochMilli(record.timestamp());
                }
            } catch (Exception e) {
                // not a record this build reads
            }
        }
        throw new AssertionError("no record of job " + jobId);
    }

    /** Every result sent so far. */
    static List<JobResult> results(TopicProbe.Reader results) {
        List<JobResult> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : results.poll()) {
            try {
                out.add(CODEC.read(record.value(), JobResult.class));
            } catch (Exception e) {
                // not a result this build reads
            }
        }
        return out;
    }
}
