package io.chainmerge.common.campaign;

import java.util.List;

/**
 * A campaign spec that its JSON Schema, or the rules across its fields, refuse. The message names every field
 * at fault ({@code select.olderThan: …}); nothing was sent or planned.
 */
public final class InvalidCampaignSpecException extends IllegalArgumentException {
    private final List<String> fields;

    public InvalidCampaignSpecException(String message, List<String> fields, Throwable cause) {
        super(message, cause);
        this.fields = List.copyOf(fields);
    }

    /** The fields at fault, as paths ({@code limits.perVolume}, {@code pools[0]}); empty when the spec as a whole is. */
    public List<String> fields() {
        return fields;
    }
}
