package io.chainmerge.coordinator;

import io.chainmerge.common.config.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How the coordinator's API guards itself (docs/security.md).
 *
 * @param insecure {@code security.mode: insecure}: callers need no token (a lab); tokens still name them
 * @param principalsFile the principals file, or null
 * @param backupSources CloudEvent sources that may post backup events besides those bound to backup-system
 *     principals
 * @param bodyLimit the largest request body, in bytes
 * @param writesPerMinute state-changing calls a principal may make per minute, on average
 * @param writeBurst state-changing calls a principal may make at once
 */
public record SecuritySettings(
        boolean insecure,
        Path principalsFile,
        List<String> backupSources,
        long bodyLimit,
        int writesPerMinute,
        int writeBurst) {

    public SecuritySettings {
        backupSources = backupSources == null ? List.of() : List.copyOf(backupSources);
        if (bodyLimit < 1) {
            throw new ConfigException(CoordinatorConfig.BODY_LIMIT.name(), "must be at least 1 byte");
        }
        if (writesPerMinute < 1 || writeBurst < 1) {
            throw new ConfigException("security.write-rate", "and security.write-burst must be at least 1");
        }
    }

    static boolean insecure(String mode) {
        return switch (mode.strip().toLowerCase(Locale.ROOT)) {
            case "secure" -> false;
            case "insecure" -> true;
            default ->
                throw new ConfigException(
                        CoordinatorConfig.SECURITY_MODE.name(), "is secure or insecure, not \"" + mode + "\"");
        };
    }
}
