package io.chainmerge.disk.inuse;

import io.chainmerge.disk.GuardRefusal;
import io.chainmerge.disk.GuardRefusal.Guard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The in-use probes an operation consults, with its files held, before it writes a byte, and what a
 * probe that cannot look means: refuse (the default: a blind spot is not a yes) or go on.
 */
public final class InUseCheck {
    /** Consults nothing: the POSIX locks alone. */
    public static final InUseCheck NONE = new InUseCheck(List.of(), true);

    private final List<InUseProbe> probes;
    private final boolean refuseWhenUnavailable;

    public InUseCheck(List<InUseProbe> probes, boolean refuseWhenUnavailable) {
        this.probes = List.copyOf(probes);
        this.refuseWhenUnavailable = refuseWhenUnavailable;
    }

    /** Refused with the {@code in-use} guard, naming the holder, when any probe sees one of {@code files} in use. */
    public void check(List<Path> files) throws IOException {
        Set<Path> real = new LinkedHashSet<>();
        for (Path file : files) {
            if (Files.exists(file)) {
                real.add(file.toRealPath());
            }
        }
        List<Path> looked = List.copyOf(real);
        if (looked.isEmpty()) {
            return;
        }
        List<ProbeUnavailableException> unavailable = new ArrayList<>();
        for (InUseProbe probe : probes) {
            List<InUseHolder> holders;
            try {
                holders = probe.holders(looked);
            } catch (ProbeUnavailableException e) {
                unavailable.add(e);
                continue;
            }
            if (!holders.isEmpty()) {
                InUseHolder first = holders.get(0);
                Map<String, Object> figures = new LinkedHashMap<>();
                figures.put("probe", first.probe());
                figures.put("holder", first.holder());
                figures.put(
                        "holders",
                        holders.stream().map(h -> h.file() + ": " + h.holder()).toList());
                throw new GuardRefusal(
                        Guard.IN_USE,
                        first.file(),
                        "%s: in use: %s (seen by the %s probe)".formatted(first.file(), first.holder(), first.probe()),
                        figures);
            }
        }
        if (refuseWhenUnavailable && !unavailable.isEmpty()) {
            ProbeUnavailableException first = unavailable.get(0);
            throw new GuardRefusal(
                    Guard.IN_USE,
                    looked.get(0),
                    "cannot tell whether %s are in use: the %s probe cannot look (%s); refused, as in-use.unavailable says"
                            .formatted(looked, first.probe(), first.getMessage()),
                    Map.of("probe", first.probe(), "unavailable", first.getMessage()));
        }
    }

    /** Each probe's state for {@code /ready}: "ok", or why it cannot look now. */
    public Map<String, String> status() {
        Map<String, String> status = new LinkedHashMap<>();
        for (InUseProbe probe : probes) {
            try {
                probe.holders(List.of());
                status.put(probe.name(), "ok");
            } catch (IOException e) {
                status.put(probe.name(), "unavailable: " + e.getMessage());
            }
        }
        return status;
    }
}
