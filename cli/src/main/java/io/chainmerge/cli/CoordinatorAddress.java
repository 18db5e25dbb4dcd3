package io.chainmerge.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code --coordinator URL} and {@code --token-file FILE} options of the commands that talk to the
 * coordinator's HTTP API. Inherited: {@code campaign --coordinator URL list} and
 * {@code campaign list --coordinator URL} both set it here.
 */
final class CoordinatorAddress {
    static final String ENVIRONMENT = "CHAINMERGE_COORDINATOR";
    static final String DEFAULT = "http://localhost:8080";
    static final String TOKEN_ENVIRONMENT = "CHAINMERGE_TOKEN";

    @Option(
            names = "--coordinator",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            description = "the coordinator's API (default: $" + ENVIRONMENT + " or " + DEFAULT + ")")
    String url;

    @Option(
            names = "--token-file",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "the file holding this caller's bearer token (default: $" + TOKEN_ENVIRONMENT
                    + "; docs/security.md)")
    Path tokenFile;

    CampaignClient client() throws IOException {
        String address = url != null ? url : System.getenv().getOrDefault(ENVIRONMENT, DEFAULT);
        return new CampaignClient(address, ChainmergeCommand.JSON, token());
    }

    /** The token from --token-file, else from the environment; null when neither gives one. */
    private String token() throws IOException {
        if (tokenFile != null) {
            String token;
            try {
                token = Files.readString(tokenFile).strip();
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("--token-file " + tokenFile + " does not exist", e);
            }
            if (token.isEmpty()) {
                throw new IllegalArgumentException("--token-file " + tokenFile + " is empty");
            }
            return token;
        }
        return System.getenv(TOKEN_ENVIRONMENT);
    }
}
