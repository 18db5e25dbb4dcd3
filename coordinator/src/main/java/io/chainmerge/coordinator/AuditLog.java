package io.chainmerge.coordinator;

import io.chainmerge.common.audit.AuditRecord;
import io.chainmerge.common.kafka.Acks;
import io.chainmerge.common.message.MessageCodec;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code chainmerge.audit}: one record per state-changing call, keyed by principal. Also in the log, so a
 * record the broker did not take is not lost without a trace.
 */
final class AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final MessageCodec codec;
    private final Executor callbacks;

    AuditLog(Producer<String, byte[]> producer, String topic, MessageCodec codec, Executor callbacks) {
        this.producer = producer;
        this.topic = topic;
        this.codec = codec;
        this.callbacks = callbacks;
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
        Acks.send(producer, new ProducerRecord<>(topic, record.principal(), codec.write(record)), callbacks)
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        LOG.error(
                                "the audit record of {} could not be written: {}",
                                record.request(),
                                error.getMessage());
                    }
                });
    }
}
