package io.chainmerge.cli;

import io.chainmerge.disk.ByteSize;
import io.chainmerge.disk.ErrorReport;
import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergePlan;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "preflight",
        header = "Tells whether a merge would run and fit; changes nothing.",
        mixinStandardHelpOptions = true,
        description = "Tells whether a merge would run: the exact growth of the destination against its volume's free "
                + "space less the reserve, and every other guard. Changes nothing. Exit code 3 when refused.")
final class PreflightCommand implements Callable<Integer> {
    @Mixin
    MergeOptions options;

    @Mixin
    Output output;

    @Override
    public Integer call() throws Exception {
        MergePlan plan = Merge.plan(options.request());
        PrintWriter out = output.out();
        if (output.json()) {
            output.printJson(summary(plan));
        } else {
            out.printf("%s into %s%n", plan.sources(), plan.destination());
            out.printf(
                    "  required   %s (%s)%n",
                    ByteSize.format(plan.space().requiredBytes()), plan.space().exact() ? "exact" : "at most");
            out.printf(
                    "  available  %s on %s (free %s, reserve %s)%n",
                    ByteSize.format(plan.space().availableBytes()),
                    plan.space().volume(),
                    ByteSize.format(plan.space().usableBytes()),
                    ByteSize.format(plan.space().reserveBytes()));
            out.printf("  fits       %s%n", plan.space().fits() ? "yes" : "no");
            for (GuardRefusal refusal : plan.refusals()) {
                out.printf("  refused    %s%n", refusal.getMessage());
            }
            out.println(plan.mayRun() ? "the merge may run" : "the merge would be refused");
        }
        return plan.mayRun() ? ExitCodes.OK : ExitCodes.REFUSED;
    }

    static Map<String, Object> summary(MergePlan plan) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("requiredBytes", plan.space().requiredBytes());
        json.put("availableBytes", plan.space().availableBytes());
        json.put("fits", plan.space().fits());
        json.put("exact", plan.space().exact());
        json.put("usableBytes", plan.space().usableBytes());
        json.put("reserveBytes", plan.space().reserveBytes());
        json.put("volume", plan.space().volume().toString());
        json.put("destination", plan.destination().toString());
        json.put("sources", plan.sources().stream().map(Object::toString).toList());
        json.put(
                "childrenToRepoint",
                plan.childrenToRepoint().stream().map(Object::toString).toList());
        json.put("payloadBytes", plan.payloadBytes());
        json.put("mayRun", plan.mayRun());
        json.put(
                "refusals",
                plan.refusals().stream()
                        .map(r -> {
                            ErrorReport report = ErrorReport.of(r);
                            Map<String, Object> refusal = new LinkedHashMap<>();
                            refusal.put("reason", report.reason());
                            refusal.put("message", report.message());
                            refusal.put("figures", report.figures());
                            return refusal;
                        })
                        .toList());
        if (plan.pendingJournal() != null) {
            json.put("pendingJournal", plan.pendingJournal().toString());
        }
        return json;
    }
}
