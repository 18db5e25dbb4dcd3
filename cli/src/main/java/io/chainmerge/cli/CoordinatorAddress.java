package io.chainmerge.cli;

import io.chainmerge.common.security.PemFiles;
import java.io.IOException;
import java.nio.file.Path;
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

    static final String CACERT_ENVIRONMENT = "CHAINMERGE_CACERT";

    @Option(
            names = "--cacert",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "PEM bundle of the CA that signed the coordinator's certificate, trusted for an https:// "
                    + "coordinator instead of the system's CAs (default: $" + CACERT_ENVIRONMENT + ")")
    Path cacert;

    CampaignClient client() {
        String address = url != null ? url : System.getenv().getOrDefault(ENVIRONMENT, DEFAULT);
        String bundle = cacert != null ? cacert.toString() : System.getenv().getOrDefault(CACERT_ENVIRONMENT, "");
        try {
            return new CampaignClient(
                    address, ChainmergeCommand.JSON, bundle.isBlank() ? null : PemFiles.trusting(Path.of(bundle)));
        } catch (IOException e) {
            throw new IllegalArgumentException("--cacert " + bundle + ": " + e.getMessage(), e);
        }
    }
}
