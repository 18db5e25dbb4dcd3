package io.chainmerge.cli;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/** The same end-to-end campaign against Testcontainers' Kafka, where a Docker engine is available. */
@Testcontainers(disabledWithoutDocker = true)
class CampaignContainerIT extends CampaignScenario {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.4.0");

    @Override
    String bootstrapServers() {
        return KAFKA.getBootstrapServers();
    }
}
