package io.chainmerge.disk.vhdx;

import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.ParentLink;
import io.chainmerge.disk.ParentPath;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.io.Guids;
import io.chainmerge.disk.io.StructReader;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The Parent Locator metadata item of a differencing VHDX (MS-VHDX 2.6.2.6): a locator type and
 * UTF-16LE key/value pairs, kept in file order so a rewrite changes only what it must.
 */
record ParentLocator(UUID locatorType, Map<String, String> entries) {

    static final UUID VHDX_LOCATOR_TYPE = UUID.fromString("B04AEFB7-D19E-4A81-B789-25B8E9445913");
    static final String PARENT_LINKAGE = "parent_linkage";
    static final String PARENT_LINKAGE2 = "parent_linkage2";
    static final String RELATIVE_PATH = "relative_path";
    static final String VOLUME_PATH = "volume_path";
    static final String ABSOLUTE_WIN32_PATH = "absolute_win32_path";

    private static final int HEADER_SIZE = 20;
    private static final int ENTRY_SIZE = 12;

    ParentLocator {
        entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    static ParentLocator parse(Path file, StructReader item) throws CorruptDiskException, UnsupportedDiskException {
        UUID type = item.windowsGuid(0, "LocatorType");
        if (!type.equals(VHDX_LOCATOR_TYPE)) {
            throw new UnsupportedDiskException(
                    file, "the parent locator type " + type + " is not the VHDX locator type");
        }
        int count = item.u16(18, "KeyValueCount");
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int at = HEADER_SIZE + i * ENTRY_SIZE;
            long keyOffset = item.u32(at, "entry KeyOffset");
            long valueOffset = item.u32(at + 4, "entry ValueOffset");
            int keyLength = item.u16(at + 8, "entry KeyLength");
            int valueLength = item.u16(at + 10, "entry ValueLength");
            item.require(
                    keyOffset > 0 && valueOffset > 0, at, "entry", "key and value offsets must be greater than zero");
            item.require(
                    keyLength > 0 && valueLength > 0,
                    at + 8,
                    "entry",
                    "key and value lengths must be greater than zero");
            item.require(
                    keyLength % 2 == 0 && valueLength % 2 == 0, at + 8, "entry", "UTF-16 strings have even lengths");
            item.require(keyOffset <= item.size() && valueOffset <= item.size(), at, "entry", "offset beyond the item");
            String key = utf16(item.bytes((int) keyOffset, keyLength, "key"));
            String value = utf16(item.bytes((int) valueOffset, valueLength, "value"));
            // MS-VHDX 2.6.2.6.2: no NULs; a path with one names no file on any system.
            item.require(key.indexOf('\0') < 0, (int) keyOffset, "key", "the key contains a NUL character");
            item.require(value.indexOf('\0') < 0, (int) valueOffset, key, "the value contains a NUL character");
            item.require(entries.put(key, value) == null, at, "entry", "key \"" + key + "\" appears twice");
        }
        ParentLocator locator = new ParentLocator(type, entries);
        String linkage = entries.get(PARENT_LINKAGE);
        item.require(linkage != null, 18, "parent_linkage", "the parent locator has no parent_linkage entry");
        item.require(Guids.parseBraced(linkage) != null, 18, "parent_linkage", "\"" + linkage + "\" is not a GUID");
        item.require(
                entries.containsKey(RELATIVE_PATH)
                        || entries.containsKey(VOLUME_PATH)
                        || entries.containsKey(ABSOLUTE_WIN32_PATH),
                18,
                "paths",
                "the parent locator names no path to the parent");
        return locator;
    }

    private static String utf16(byte[] raw) {
        return new String(raw, StandardCharsets.UTF_16LE);
    }

    /** The link as the rest of chainmerge sees it: accepted identities, then paths in resolution order. */
    ParentLink toParentLink() {
        List<UUID> accepted = new ArrayList<>();
        accepted.add(Guids.parseBraced(entries.get(PARENT_LINKAGE)));
        String second = entries.get(PARENT_LINKAGE2);
        UUID secondGuid = second == null ? null : Guids.parseBraced(second);
        // Hyper-V writes parent_linkage2 as the zero GUID when it is unused.
        if (secondGuid != null && !secondGuid.equals(Guids.ZERO) && !accepted.contains(secondGuid)) {
            accepted.add(secondGuid);
        }
        List<ParentPath> paths = new ArrayList<>();
        addPath(paths, RELATIVE_PATH, ParentPath.Kind.RELATIVE);
        addPath(paths, VOLUME_PATH, ParentPath.Kind.VOLUME);
        addPath(paths, ABSOLUTE_WIN32_PATH, ParentPath.Kind.ABSOLUTE);
        return new ParentLink(accepted, paths);
    }

    private void addPath(List<ParentPath> paths, String key, ParentPath.Kind kind) {
        String value = entries.get(key);
        if (value != null && !value.isEmpty()) {
            paths.add(new ParentPath(kind, value));
        }
    }

    /** This locator with {@code key} set (added at the end when new, replaced in place otherwise). */
    ParentLocator with(String key, String value) {
        Map<String, String> updated = new LinkedHashMap<>(entries);
        updated.put(key, value);
        return new ParentLocator(locatorType, updated);
    }

    ParentLocator without(String key) {
        Map<String, String> updated = new LinkedHashMap<>(entries);
        updated.remove(key);
        return new ParentLocator(locatorType, updated);
    }

    /** A locator for a parent with this identity, at these paths (linkage first, as Hyper-V orders it). */
    static ParentLocator forParent(UUID parentIdentity, List<ParentPath> paths) {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put(PARENT_LINKAGE, Guids.braced(parentIdentity));
        for (ParentPath path : paths) {
            switch (path.kind()) {
                case RELATIVE -> entries.put(RELATIVE_PATH, path.value());
                case VOLUME -> entries.put(VOLUME_PATH, path.value());
                case ABSOLUTE -> entries.put(ABSOLUTE_WIN32_PATH, path.value());
                case OTHER -> {}
            }
        }
        return new ParentLocator(VHDX_LOCATOR_TYPE, entries);
    }

    byte[] encode() {
        int count = entries.size();
        ByteBuffer table = ByteBuffer.allocate(HEADER_SIZE + count * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        Guids.writeWindows(table, 0, locatorType);
        table.putShort(18, (short) count);
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        int next = table.capacity();
        int i = 0;
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            byte[] key = entry.getKey().getBytes(StandardCharsets.UTF_16LE);
            byte[] value = entry.getValue().getBytes(StandardCharsets.UTF_16LE);
            int at = HEADER_SIZE + i++ * ENTRY_SIZE;
            table.putInt(at, next);
            table.putInt(at + 4, next + key.length);
            table.putShort(at + 8, (short) key.length);
            table.putShort(at + 10, (short) value.length);
            strings.writeBytes(key);
            strings.writeBytes(value);
            next += key.length + value.length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(table.array());
        out.writeBytes(strings.toByteArray());
        return out.toByteArray();
    }
}
