package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * Callers named by JWTs from an OIDC issuer (docs/security.md#oidc-tokens): the issuer's key set, the
 * {@code iss} and {@code aud} a token must carry, and the claims that give its principal's name and roles.
 *
 * @param jwksUrl where the issuer publishes its signing keys (JWKS), read at start and every few minutes
 * @param ca a PEM bundle of the CAs trusted for {@code jwksUrl} instead of the system's, or null
 * @param rolesClaim the claim holding the caller's chainmerge roles, a dotted path for a nested one (e.g.
 *     {@code realm_access.roles}): a list, or names separated by spaces
 */
record OidcSettings(URI jwksUrl, String issuer, String audience, String rolesClaim, String nameClaim, Path ca) {
    static final String JWKS_URL = "security.oidc.jwks-url";

    /** The settings, or null when {@code security.oidc.jwks-url} is empty. */
    static OidcSettings of(
            String jwksUrl,
            String issuer,
            String audience,
            String rolesClaim,
            String nameClaim,
            String ca,
            boolean insecure) {
        if (jwksUrl.isBlank()) {
            for (String other : List.of(issuer, audience, ca)) {
                if (!other.isBlank()) {
                    throw new ConfigException(JWKS_URL, "is needed with the other security.oidc.* settings");
                }
            }
            return null;
        }
        URI url;
        try {
            url = URI.create(jwksUrl.strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(JWKS_URL, "is not a URL: " + jwksUrl);
        }
        boolean https = "https".equalsIgnoreCase(url.getScheme());
        if (!https && !(insecure && "http".equalsIgnoreCase(url.getScheme()))) {
            throw new ConfigException(
                    JWKS_URL,
                    "must be an https:// URL (whoever could change the keys on their way could sign any token); "
                            + "http:// only with security.mode: insecure");
        }
        if (issuer.isBlank()) {
            throw new ConfigException(
                    "security.oidc.issuer", "is required with " + JWKS_URL + ": the iss a token must carry");
        }
        if (audience.isBlank()) {
            throw new ConfigException(
                    "security.oidc.audience",
                    "is required with " + JWKS_URL + ": the aud a token must carry, so that a token the issuer made "
                            + "for another application does not open this API");
        }
        if (rolesClaim.isBlank() || nameClaim.isBlank()) {
            throw new ConfigException("security.oidc.roles-claim", "and security.oidc.name-claim must name a claim");
        }
        return new OidcSettings(
                url,
                issuer.strip(),
                audience.strip(),
                rolesClaim.strip(),
                nameClaim.strip(),
                ca.isBlank() ? null : Path.of(ca));
    }
}
