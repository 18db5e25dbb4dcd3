package io.chainmerge.cli;

import io.chainmerge.common.security.PemFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code --coordinator URL}, {@code --token-file FILE}, {@code --cacert FILE}, {@code --cert FILE} and
 * {@code --key FILE} options of the commands that talk to the
 * coordinator's HTTP API. Inherited: {@code campaign --coordinator URL list} and
 * {@code campaign list --coordinator URL} both set it here.
 */
final class CoordinatorAddress {
    static final String ENVIRONMENT = "CHAINMERGE_COORDINATOR";
    static final String DEFAULT = "http://localhost:8080";
    static final String TOKEN_ENVIRONMENT = "CHAINMERGE_TOKEN";
    static final String CACERT_ENVIRONMENT = "CHAINMERGE_CACERT";

    @Option(
            names = "--coordinator",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            description = "the coordinator's API, or its replicas' comma-separated (the first that answers is "
                    + "asked; a write goes on to the leader a standby names) (default: $" + ENVIRONMENT + " or "
                    + DEFAULT + ")")
    String url;

    @Option(
            names = "--token-file",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "the file holding this caller's bearer token (default: $" + TOKEN_ENVIRONMENT
                    + "; docs/security.md)")
    Path tokenFile;

    @Option(
            names = "--cacert",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "PEM bundle of the CA that signed the coordinator's certificate, trusted for an https:// "
                    + "coordinator instead of the system's CAs (default: $" + CACERT_ENVIRONMENT + ")")
    Path cacert;

    @Option(
            names = "--cert",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "PEM client certificate (chain) to present to a coordinator that takes them (tls.client-ca), "
                    + "with --key; it names the caller instead of a token (docs/security.md)")
    Path cert;

    @Option(
            names = "--key",
            scope = ScopeType.INHERIT,
            paramLabel = "FILE",
            description = "PEM private key of --cert (PKCS#8 or PKCS#1, unencrypted)")
    Path key;

    CampaignClient client() throws IOException {
        String address = url != null ? url : System.getenv().getOrDefault(ENVIRONMENT, DEFAULT);
        String bundle = cacert != null ? cacert.toString() : System.getenv().getOrDefault(CACERT_ENVIRONMENT, "");
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException(cert == null ? "--key needs --cert" : "--cert needs --key");
        }
        SSLContext tls;
        if (cert != null) {
            tls = ClientCertificate.context(cert, key, bundle.isBlank() ? null : Path.of(bundle));
        } else {
            try {
                tls = bundle.isBlank() ? null : PemFiles.trusting(Path.of(bundle));
            } catch (IOException e) {
                throw new IllegalArgumentException("--cacert " + bundle + ": " + e.getMessage(), e);
            }
        }
        return new CampaignClient(address, ChainmergeCommand.JSON, token(), tls);
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
