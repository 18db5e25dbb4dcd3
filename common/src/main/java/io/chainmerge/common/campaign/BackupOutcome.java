package io.chainmerge.common.campaign;

import io.chainmerge.common.message.Outcome;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one backup request: the data of its {@code io.chainmerge.merge.*} notification.
 *
 * @param outcome succeeded (every merge did), refused (a guard, {@code not-found} or {@code
 *     deadline-passed} said no before anything changed) or failed
 * @param reason the first refusal's or failure's reason word; null when it succeeded
 * @param figures what that guard measured, e.g. {@code requiredBytes} and {@code availableBytes}
 * @param merges every merge the request became, with its own outcome
 * @param skipped disks of a cleanup that the plan left alone (siblings, orphans)
 */
public record BackupOutcome(
        String requestId,
        Outcome outcome,
        String reason,
        String message,
        Map<String, Object> figures,
        List<Merge> merges,
        List<Skipped> skipped) {

    public BackupOutcome {
        if (requestId == null || outcome == null) {
            throw new IllegalArgumentException("requestId and outcome are required");
        }
        if ((outcome == Outcome.SUCCEEDED) != (reason == null)) {
            throw new IllegalArgumentException("an outcome has a reason exactly when it did not succeed");
        }
        figures = figures == null ? Map.of() : Map.copyOf(figures);
        merges = merges == null ? List.of() : List.copyOf(merges);
        skipped = skipped == null ? List.of() : List.copyOf(skipped);
    }

    /**
     * One merge of the request. {@code resultingChain} runs from the destination down to the root; {@code
     * reattach}, when not null, is the disk the checkpoint's VM must now attach in place of {@code child}.
     */
    public record Merge(
            String jobId,
            String child,
            Outcome outcome,
            String reason,
            String message,
            long bytesMerged,
            List<String> resultingChain,
            String reattach) {
        public Merge {
            resultingChain = resultingChain == null ? List.of() : List.copyOf(resultingChain);
        }
    }

    /** A disk the plan left alone, and why. */
    public record Skipped(String disk, String reason, String message) {}
}
