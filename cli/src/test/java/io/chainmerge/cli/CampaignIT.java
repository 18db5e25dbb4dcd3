package io.chainmerge.cli;

import io.chainmerge.broker.KafkaBroker;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The end-to-end campaign against the embedded KRaft broker, which CI always has. */
class CampaignIT extends CampaignScenario {
    @RegisterExtension
    static final KafkaBroker broker = new KafkaBroker();

    @Override
    String bootstrapServers() {
        return broker.bootstrapServers();
    }
}
