package io.chainmerge.common.message;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * When merges may run: windows in local time of a zone, as an operator writes them.
 *
 * <p>A window is {@code [days] [from-to]}: days as {@code Mon-Fri}, {@code Sat,Sun} or {@code Mon}
 * (every day when left out), hours as {@code 22:00-06:00} (the whole day when left out; seconds
 * allowed, {@code 24:00} for midnight at the end). A window whose end is not after its start runs past
 * midnight into the next day, and its days are the days it starts on: {@code Fri 22:00-06:00} ends
 * on Saturday at 06:00. Wall-clock times follow the zone's daylight saving time (a start that falls
 * in the spring gap is moved forward by the gap).
 *
 * @param windows the windows, at least one
 * @param timeZone an IANA zone ({@code Europe/Paris}) or offset; null for UTC
 */
public record MergeWindows(List<String> windows, String timeZone) {

    private record Window(Set<DayOfWeek> days, LocalTime from, LocalTime to, boolean wholeDay) {}

    public MergeWindows {
        if (windows == null || windows.isEmpty()) {
            throw new IllegalArgumentException("windows: name at least one window, or leave it out to run any time");
        }
        windows = List.copyOf(windows);
        timeZone = timeZone == null || timeZone.isBlank() ? "UTC" : timeZone.strip();
        try {
            ZoneId.of(timeZone);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("timeZone: not a time zone: " + timeZone);
        }
        for (String window : windows) {
            parse(window);
        }
    }

    /** The windows of a spec; null when it names none (merges run any time). */
    public static MergeWindows of(List<String> windows, String timeZone) {
        if (windows == null || windows.isEmpty()) {
            if (timeZone != null && !timeZone.isBlank()) {
                new MergeWindows(List.of("Mon-Sun"), timeZone); // a zone that is a typo is still reported
            }
            return null;
        }
        return new MergeWindows(windows, timeZone);
    }

    /** Whether {@code instant} lies in a window. */
    public boolean contains(Instant instant) {
        ZoneId zone = ZoneId.of(timeZone);
        LocalDate today = instant.atZone(zone).toLocalDate();
        for (Window window : parsed()) {
            for (LocalDate day = today.minusDays(1); !day.isAfter(today); day = day.plusDays(1)) {
                if (window.days.contains(day.getDayOfWeek())) {
                    Instant start = start(window, day, zone);
                    if (!instant.isBefore(start) && instant.isBefore(end(window, day, zone))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** {@code instant} when it lies in a window, else the next start of one (within the coming week). */
    public Instant nextOpening(Instant instant) {
        if (contains(instant)) {
            return instant;
        }
        ZoneId zone = ZoneId.of(timeZone);
        LocalDate today = instant.atZone(zone).toLocalDate();
        Optional<Instant> next = Optional.empty();
        for (Window window : parsed()) {
            for (LocalDate day = today; !day.isAfter(today.plusDays(8)); day = day.plusDays(1)) {
                if (window.days.contains(day.getDayOfWeek())) {
                    Instant start = start(window, day, zone);
                    if (start.isAfter(instant) && (next.isEmpty() || start.isBefore(next.get()))) {
                        next = Optional.of(start);
                    }
                }
            }
        }
        return next.orElseThrow(); // every window has a day of the week, so it opens within eight days
    }

    private static Instant start(Window window, LocalDate day, ZoneId zone) {
        return day.atTime(window.wholeDay ? LocalTime.MIDNIGHT : window.from)
                .atZone(zone)
                .toInstant();
    }

    private static Instant end(Window window, LocalDate day, ZoneId zone) {
        if (window.wholeDay || window.to.equals(LocalTime.MIDNIGHT)) {
            return day.plusDays(1).atStartOfDay(zone).toInstant();
        }
        LocalDate endDay = window.to.isAfter(window.from) ? day : day.plusDays(1);
        return endDay.atTime(window.to).atZone(zone).toInstant();
    }

    private List<Window> parsed() {
        List<Window> out = new ArrayList<>();
        for (String window : windows) {
            out.add(parse(window));
        }
        return out;
    }

    private static Window parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("windows[]: an empty window");
        }
        String[] parts = text.strip().split("\\s+");
        if (parts.length > 2) {
            throw new IllegalArgumentException(
                    "windows[]: \"" + text + "\" is not [days] [hh:mm-hh:mm], e.g. \"Mon-Fri 22:00-06:00\"");
        }
        Set<DayOfWeek> days = EnumSet.allOf(DayOfWeek.class);
        String hours = null;
        for (int i = 0; i < parts.length; i++) {
            if (Character.isDigit(parts[i].charAt(0))) {
                if (i != parts.length - 1) {
                    throw new IllegalArgumentException("windows[]: \"" + text + "\": the days come before the hours");
                }
                hours = parts[i];
            } else if (i == 0) {
                days = days(parts[i], text);
            } else {
                throw new IllegalArgumentException("windows[]: \"" + text + "\": the days come before the hours");
            }
        }
        if (hours == null) {
            return new Window(days, LocalTime.MIDNIGHT, LocalTime.MIDNIGHT, true);
        }
        String[] range = hours.split("-", -1);
        if (range.length != 2) {
            throw new IllegalArgumentException("windows[]: \"" + text + "\": hours are hh:mm-hh:mm");
        }
        LocalTime from = time(range[0], text, false);
        LocalTime to = time(range[1], text, true);
        if (from.equals(to)) {
            throw new IllegalArgumentException("windows[]: \"" + text
                    + "\" starts and ends at the same time; leave the hours out for a whole day");
        }
        return new Window(days, from, to, false);
    }

    private static LocalTime time(String text, String window, boolean end) {
        if (end && (text.equals("24:00") || text.equals("24:00:00"))) {
            return LocalTime.MIDNIGHT;
        }
        try {
            return LocalTime.parse(text.length() == 4 ? "0" + text : text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("windows[]: \"" + window + "\": \"" + text + "\" is not a time (hh:mm)");
        }
    }

    private static Set<DayOfWeek> days(String text, String window) {
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (String item : text.split(",")) {
            String[] range = item.split("-", -1);
            if (range.length > 2) {
                throw new IllegalArgumentException(
                        "windows[]: \"" + window + "\": \"" + item + "\" is not a day range");
            }
            DayOfWeek first = day(range[0], window);
            DayOfWeek last = range.length == 2 ? day(range[1], window) : first;
            for (DayOfWeek d = first; ; d = d.plus(1)) {
                days.add(d);
                if (d == last) {
                    break;
                }
            }
        }
        return days;
    }

    private static DayOfWeek day(String text, String window) {
        String name = text.strip().toUpperCase(Locale.ROOT);
        if (name.length() >= 3) {
            for (DayOfWeek day : DayOfWeek.values()) {
                if (day.name().startsWith(name)) {
                    return day;
                }
            }
        }
        throw new IllegalArgumentException(
                "windows[]: \"" + window + "\": \"" + text + "\" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
    }
}
