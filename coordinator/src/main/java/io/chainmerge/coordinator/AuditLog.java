package io.chainmerge.coordinator;

import io.chainmerge.common.audit.AuditRecord;
import io.chainmerge.common.message.MessageCodec;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code chainmerge.audit}: one record per state-changing call, keyed by principal. Also in the log, so a
 * record the broker did not take is not lost without a trace.
 */
final class AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

    private final TransactionalLog log;
    private final String topic;
    private final MessageCodec codec;

    AuditLog(TransactionalLog log, String topic, MessageCodec codec) {
        this.log = log;
        this.topic = topic;
        this.codec = codec;
    }

    void record(AuditRecord record) {
        LOG.info(
                "audit: {} ({}) from {}: {} {} -> {}",
                record.principal(),
                record.roles(),
                record.address(),
                record.request(),
                record.campaignId() == null ? "" : "[" + record.campaignId() + "]",
                record.status());
        log.send(new ProducerRecord<>(topic, record.principal(), codec.write(record)))
                .whenComplete((ok, error) -> {
                    if (error instanceof TransactionalLog.NotLeadingException) {
                        // A standby answered the call (503, naming the leader): the line above is its record.
                        LOG.debug("audit record of {} kept in the log only: {}", record.request(), error.getMessage());
                    } else if (error != null) {
                        LOG.error(
                                "the audit record of {} could not be written: {}",
                                record.request(),
                                error.getMessage());
                    }
                });
    }
}
