package io.chainmerge.common.message;

import java.util.Map;

/**
 * Why a job was refused or failed: the engine's error report, as it travels.
 *
 * @param category {@code refused}, {@code invalid} (bad input or request; nothing changed) or
 *     {@code failed}
 * @param reason a stable word: a guard's ({@code insufficient-space}, {@code siblings},
 *     {@code orphaned}, {@code missing-parent}, {@code in-use}, {@code not-same-parent}) or an
 *     error's ({@code corrupt}, {@code unsupported}, {@code invalid-chain}, {@code invalid-request},
 *     {@code not-found}, {@code transfer-failed}, {@code interrupted}, {@code io-error}, {@code internal-error})
 * @param file the file concerned, or null
 * @param offset where in {@code file} a corruption is, or null
 * @param field the on-disk field at {@code offset}, or null
 * @param figures what a guard measured, e.g. {@code requiredBytes} and {@code availableBytes}
 */
public record Problem(
        String category,
        String reason,
        String message,
        String file,
        Long offset,
        String field,
        Map<String, Object> figures) {
    public Problem {
        Schema.require(category, "problem.category");
        Schema.require(reason, "problem.reason");
        Schema.require(message, "problem.message");
        figures = figures == null ? Map.of() : Map.copyOf(figures);
    }
}
