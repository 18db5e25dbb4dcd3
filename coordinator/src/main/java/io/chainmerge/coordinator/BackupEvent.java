package io.chainmerge.coordinator;

import io.chainmerge.common.campaign.BackupRequest.Kind;
import java.time.Instant;

/** A valid backup event, read and checked, its pool known: what a standing campaign turns into merges. */
record BackupEvent(
        String requestId,
        Kind kind,
        String source,
        String eventId,
        String pool,
        String host,
        String disk,
        String folder,
        Instant deadline,
        int priority) {}
