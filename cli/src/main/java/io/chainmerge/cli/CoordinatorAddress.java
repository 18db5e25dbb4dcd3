package io.chainmerge.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code --coordinator URL} option of the commands that talk to the coordinator's HTTP API. Inherited:
 * {@code campaign --coordinator URL list} and {@code campaign list --coordinator URL} both set it here.
 */
final class CoordinatorAddress {
    static final String ENVIRONMENT = "CHAINMERGE_COORDINATOR";
    static final String DEFAULT = "http://localhost:8080";

    @Option(
            names = "--coordinator",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            description = "the coordinator's API (default: $" + ENVIRONMENT + " or " + DEFAULT + ")")
    String url;

    CampaignClient client() {
        String address = url != null ? url : System.getenv().getOrDefault(ENVIRONMENT, DEFAULT);
        return new CampaignClient(address, ChainmergeCommand.JSON);
    }
}
