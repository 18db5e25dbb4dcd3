package io.chainmerge.common.audit;

import io.chainmerge.common.message.Schema;
import java.time.Instant;

/**
 * One state-changing call to the coordinator's API, on {@code chainmerge.audit}: who made it, from where,
 * when, what it asked and how it was answered. Written for refused calls too (403, 409, 429), so an
 * attempt leaves a trace as well as a change.
 *
 * @param principal the caller's name ({@code anonymous} in insecure mode without a token)
 * @param roles the caller's roles, comma-separated
 * @param address the caller's address as the coordinator saw it
 * @param action {@code submit}, {@code cancel}, {@code pause}, {@code resume}, {@code approve} or
 *     {@code backup-event}
 * @param request the method and path, e.g. {@code POST /campaigns/c-1/pause}
 * @param campaignId the campaign it concerns, when known
 * @param status the HTTP status of the answer
 * @param detail what changed or why not, for people
 */
public record AuditRecord(
        int schemaVersion,
        Instant at,
        String principal,
        String roles,
        String address,
        String action,
        String request,
        String campaignId,
        int status,
        String detail) {
    public AuditRecord {
        if (schemaVersion != Schema.VERSION) {
            throw new IllegalArgumentException("schemaVersion " + schemaVersion + " is not supported");
        }
        if (at == null || principal == null || action == null) {
            throw new IllegalArgumentException("at, principal and action are required");
        }
    }
}
