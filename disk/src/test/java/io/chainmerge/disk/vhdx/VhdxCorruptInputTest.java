package io.chainmerge.disk.vhdx;

import static io.chainmerge.disk.testing.VhdxSurgery.BAT;
import static io.chainmerge.disk.testing.VhdxSurgery.FILE_PARAMETERS;
import static io.chainmerge.disk.testing.VhdxSurgery.HEADER1;
import static io.chainmerge.disk.testing.VhdxSurgery.HEADER2;
import static io.chainmerge.disk.testing.VhdxSurgery.LOGICAL_SECTOR_SIZE;
import static io.chainmerge.disk.testing.VhdxSurgery.METADATA;
import static io.chainmerge.disk.testing.VhdxSurgery.MIB;
import static io.chainmerge.disk.testing.VhdxSurgery.PARENT_LOCATOR;
import static io.chainmerge.disk.testing.VhdxSurgery.PHYSICAL_SECTOR_SIZE;
import static io.chainmerge.disk.testing.VhdxSurgery.REGION_TABLE1;
import static io.chainmerge.disk.testing.VhdxSurgery.REGION_TABLE2;
import static io.chainmerge.disk.testing.VhdxSurgery.VIRTUAL_DISK_ID;
import static io.chainmerge.disk.testing.VhdxSurgery.VIRTUAL_DISK_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.chainmerge.disk.Access;
import io.chainmerge.disk.CorruptDiskException;
import io.chainmerge.disk.DiskException;
import io.chainmerge.disk.Extent;
import io.chainmerge.disk.UnsupportedDiskException;
import io.chainmerge.disk.VirtualDisk;
import io.chainmerge.disk.chain.ChainReader;
import io.chainmerge.disk.engines.DiskFiles;
import io.chainmerge.disk.merge.Merge;
import io.chainmerge.disk.merge.MergeProgress;
import io.chainmerge.disk.merge.MergeRequest;
import io.chainmerge.disk.testing.Fingerprint;
import io.chainmerge.disk.testing.Oracles;
import io.chainmerge.disk.testing.VhdxSurgery;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Valid files of every kind, broken in one precise way each: the engine answers with the typed error
 * that names the file, the offset and the field, and no other exception; and nothing is written,
 * whether the file is opened to read, opened to write and read, opened to write and written, or sits
 * in a chain a merge is asked to run on. Where the spec lets a reader go on (one bad header, one bad
 * region table copy, an unknown optional region), the file reads exactly as it did.
 */
class VhdxCorruptInputTest {

    @TempDir
    static Path samples;

    private static final Map<VhdxSamples, String> CONTENT = new EnumMap<>(VhdxSamples.class);

    @TempDir
    Path work;

    @BeforeAll
    static void writeSamples() throws Exception {
        VhdxSamples.writeAll(samples);
        for (VhdxSamples sample : VhdxSamples.values()) {
            if (Files.exists(sample.folder(samples))) {
                CONTENT.put(sample, content(sample.folder(samples).resolve(sample.target())));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The cases

    /** A way to break a file; it may look at the pristine file first. */
    @FunctionalInterface
    interface Mutation {
        void apply(VhdxSurgery file, VhdxSamples sample) throws IOException;
    }

    /** Where the error must point, worked out on the pristine file. */
    @FunctionalInterface
    interface Offset {
        long of(VhdxSurgery file) throws IOException;
    }

    /** What the engine must answer: a legal file, or an error of a type, with the field and offset. */
    record Expect(Class<? extends DiskException> type, String field, Offset offset, String message) {
        static Expect legal() {
            return new Expect(null, null, null, null);
        }

        static Expect corrupt(String field) {
            return new Expect(CorruptDiskException.class, field, null, null);
        }

        static Expect unsupported(String message) {
            return new Expect(UnsupportedDiskException.class, null, null, message);
        }

        Expect at(Offset where) {
            return new Expect(type, field, where, message);
        }

        Expect saying(String text) {
            return new Expect(type, field, offset, text);
        }

        boolean isLegal() {
            return type == null;
        }
    }

    record Case(String name, Set<VhdxSamples> samples, Mutation mutation, Expect expect) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final Set<VhdxSamples> ALL = EnumSet.allOf(VhdxSamples.class);
    private static final Set<VhdxSamples> ROOTS = EnumSet.of(
            VhdxSamples.ENGINE_DYNAMIC, VhdxSamples.ENGINE_FIXED, VhdxSamples.QEMU_DYNAMIC, VhdxSamples.QEMU_FIXED);
    private static final Set<VhdxSamples> CHILDREN = EnumSet.of(VhdxSamples.ENGINE_CHILD, VhdxSamples.PENDING_LOG);
    private static final Set<VhdxSamples> WITHOUT_LOG = EnumSet.complementOf(EnumSet.of(VhdxSamples.PENDING_LOG));
    private static final Set<VhdxSamples> LOG = EnumSet.of(VhdxSamples.PENDING_LOG);

    private static final int VERSION_AT = 66;
    private static final int LOG_VERSION_AT = 64;
    private static final int LOG_LENGTH_AT = 68;
    private static final int LOG_OFFSET_AT = 72;
    private static final long NEAR_2_63 = 0x7FFF_FFFF_FFF0_0000L;

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        fileTypeIdentifier(cases);
        headers(cases);
        regionTable(cases);
        metadata(cases);
        parentLocator(cases);
        bat(cases);
        log(cases);
        return cases;
    }

    private static void fileTypeIdentifier(List<Case> cases) {
        cases.add(new Case(
                "file type identifier signature",
                ALL,
                (f, s) -> f.putAscii(0, "vhdxfilE"),
                Expect.corrupt("file type identifier").at(f -> 0)));
        cases.add(new Case(
                "creator overwritten (diagnostic only)",
                ALL,
                (f, s) -> f.put(8, "\u0000garbage\uffff".repeat(20).getBytes(StandardCharsets.UTF_16LE)),
                Expect.legal()));
    }

    private static void headers(List<Case> cases) {
        for (long header : List.of(HEADER1, HEADER2)) {
            String which = header == HEADER1 ? "header 1" : "header 2";
            cases.add(new Case(
                    which + " signature, other header valid",
                    ALL,
                    (f, s) -> f.putAscii(header, "HEAD"),
                    Expect.legal()));
            cases.add(new Case(
                    which + " checksum, other header valid", ALL, (f, s) -> f.flip(header + 5), Expect.legal()));
            cases.add(new Case(
                    which + " body byte, other header valid", ALL, (f, s) -> f.flip(header + 2000), Expect.legal()));
            cases.add(new Case(
                    which + " SequenceNumber 2^64-1",
                    ALL,
                    (f, s) -> f.putU64(header + 8, -1L).fixHeader(header),
                    Expect.legal()));
        }
        cases.add(new Case(
                "both header signatures",
                ALL,
                (f, s) -> f.putAscii(HEADER1, "HEAD").putAscii(HEADER2, "HeAd"),
                Expect.corrupt("headers").at(f -> HEADER1)));
        cases.add(new Case(
                "both header checksums",
                ALL,
                (f, s) -> f.flip(HEADER1 + 4).flip(HEADER2 + 6),
                Expect.corrupt("headers").at(f -> HEADER1)));
        cases.add(new Case(
                "headers with equal sequence numbers",
                ALL,
                (f, s) -> f.putU64(HEADER1 + 8, f.u64(HEADER2 + 8)).fixHeader(HEADER1),
                Expect.legal()));
        for (long version : List.of(0L, 2L, 0xffffL)) {
            cases.add(new Case(
                    "current header Version " + version,
                    ALL,
                    (f, s) -> current(f, VERSION_AT, 2, version),
                    Expect.corrupt("header Version").at(f -> f.currentHeader() + VERSION_AT)));
        }
        cases.add(new Case(
                "older header Version 2",
                ALL,
                (f, s) -> {
                    long older = f.otherHeader();
                    f.putU16(older + VERSION_AT, 2).fixHeader(older);
                },
                Expect.legal()));
        cases.add(new Case(
                "LogVersion 1 with no log to replay",
                WITHOUT_LOG,
                (f, s) -> both(f, LOG_VERSION_AT, 2, 1),
                Expect.legal()));
        cases.add(new Case(
                "LogVersion 1 with a log to replay",
                LOG,
                (f, s) -> both(f, LOG_VERSION_AT, 2, 1),
                Expect.corrupt("header LogVersion").at(f -> f.currentHeader() + LOG_VERSION_AT)));
        cases.add(new Case(
                "LogOffset not 1 MiB aligned",
                ALL,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, f.logOffset() + 4096),
                Expect.corrupt("header LogOffset").at(f -> f.currentHeader() + LOG_OFFSET_AT)));
        cases.add(new Case(
                "LogOffset 0, the header section",
                ALL,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, 0),
                Expect.corrupt("header LogOffset").at(f -> f.currentHeader() + LOG_OFFSET_AT)));
        cases.add(new Case(
                "LogOffset beyond the end of the file",
                ALL,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, 1L << 40),
                Expect.corrupt("log").at(f -> 1L << 40)));
        cases.add(new Case(
                "LogOffset just below 2^63 (offset + length overflows)",
                ALL,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, NEAR_2_63),
                Expect.corrupt("log")));
        cases.add(new Case(
                "LogOffset with the top bit set",
                ALL,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, 0xFFFF_FFFF_FFF0_0000L),
                Expect.corrupt("header LogOffset").at(f -> f.currentHeader() + LOG_OFFSET_AT)));
        cases.add(new Case(
                "LogLength 0",
                ALL,
                (f, s) -> both(f, LOG_LENGTH_AT, 4, 0),
                Expect.corrupt("header LogLength").at(f -> f.currentHeader() + LOG_LENGTH_AT)));
        cases.add(new Case(
                "LogLength not a 1 MiB multiple",
                ALL,
                (f, s) -> both(f, LOG_LENGTH_AT, 4, MIB + 4096),
                Expect.corrupt("header LogLength").at(f -> f.currentHeader() + LOG_LENGTH_AT)));
        cases.add(new Case(
                "LogLength 4095 MiB", ALL, (f, s) -> both(f, LOG_LENGTH_AT, 4, 0xFFF0_0000L), Expect.corrupt("log")));
        cases.add(new Case(
                "log over the metadata region",
                WITHOUT_LOG,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, f.regionOffset(METADATA)),
                Expect.corrupt("region").saying("overlaps the log")));
        cases.add(new Case(
                "log to replay over the metadata region", // the replay comes first, and finds no entry there
                LOG,
                (f, s) -> both(f, LOG_OFFSET_AT, 8, f.regionOffset(METADATA)),
                Expect.corrupt("log").saying("no valid log sequence")));
        cases.add(new Case(
                "LogGuid set with no log entry carrying it",
                WITHOUT_LOG,
                (f, s) -> {
                    f.put(f.logOffset(), new byte[(int) f.logLength()]);
                    for (long header : List.of(HEADER1, HEADER2)) {
                        f.putGuid(header + 48, UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))
                                .fixHeader(header);
                    }
                },
                Expect.corrupt("log").saying("no valid log sequence")));
    }

    private static void regionTable(List<Case> cases) {
        cases.add(
                new Case("region table 1 signature", ALL, (f, s) -> f.putAscii(REGION_TABLE1, "REGI"), Expect.legal()));
        cases.add(new Case("region table 1 checksum", ALL, (f, s) -> f.flip(REGION_TABLE1 + 4), Expect.legal()));
        cases.add(new Case("region table 2 entry byte", ALL, (f, s) -> f.flip(REGION_TABLE2 + 20), Expect.legal()));
        cases.add(new Case(
                "both region table signatures",
                ALL,
                (f, s) -> f.putAscii(REGION_TABLE1, "REGI").putAscii(REGION_TABLE2, "ReGi"),
                Expect.corrupt("region table Signature").at(f -> REGION_TABLE1)));
        cases.add(new Case(
                "both region table checksums",
                ALL,
                (f, s) -> f.flip(REGION_TABLE1 + 1000).flip(REGION_TABLE2 + 1000),
                Expect.corrupt("region table Checksum").at(f -> REGION_TABLE1 + 4)));
        for (long count : List.of(2048L, 0xFFFF_FFFFL)) {
            cases.add(new Case(
                    "region EntryCount " + count,
                    ALL,
                    (f, s) -> f.editBothRegionTables((g, t) -> g.putU32(t + 8, count)),
                    Expect.corrupt("region table EntryCount").at(f -> REGION_TABLE1 + 8)));
        }
        cases.add(new Case(
                "region EntryCount 0",
                ALL,
                (f, s) -> f.editBothRegionTables((g, t) -> g.putU32(t + 8, 0)),
                Expect.corrupt("region table").saying("BAT region is missing")));
        cases.add(new Case(
                "region EntryCount one more than written (an all-zero entry)",
                ALL,
                (f, s) -> f.editBothRegionTables((g, t) -> g.putU32(t + 8, g.u32(t + 8) + 1)),
                Expect.corrupt("region table entry FileOffset")));
        cases.add(new Case(
                "BAT region FileOffset not 1 MiB aligned",
                ALL,
                (f, s) -> region(f, BAT, 16, 8, f.regionOffset(BAT) + 4096),
                Expect.corrupt("region table entry FileOffset").at(f -> f.regionEntry(REGION_TABLE1, BAT) + 16)));
        cases.add(new Case(
                "BAT region FileOffset 0",
                ALL,
                (f, s) -> region(f, BAT, 16, 8, 0),
                Expect.corrupt("region table entry FileOffset").at(f -> f.regionEntry(REGION_TABLE1, BAT) + 16)));
        cases.add(new Case(
                "BAT region beyond the end of the file",
                ALL,
                (f, s) -> region(f, BAT, 16, 8, 1L << 40),
                Expect.corrupt("region " + BAT.toString().toLowerCase()).at(f -> 1L << 40)));
        cases.add(new Case(
                "BAT region FileOffset just below 2^63 (offset + length overflows)",
                ALL,
                (f, s) -> region(f, BAT, 16, 8, NEAR_2_63),
                Expect.corrupt("region " + BAT.toString().toLowerCase())));
        cases.add(new Case(
                "metadata region FileOffset with the top bit set",
                ALL,
                (f, s) -> region(f, METADATA, 16, 8, 0x8000_0000_0010_0000L),
                Expect.corrupt("region table entry FileOffset").at(f -> f.regionEntry(REGION_TABLE1, METADATA) + 16)));
        cases.add(new Case(
                "BAT region Length 0",
                ALL,
                (f, s) -> region(f, BAT, 24, 4, 0),
                Expect.corrupt("region table entry Length").at(f -> f.regionEntry(REGION_TABLE1, BAT) + 24)));
        cases.add(new Case(
                "metadata region Length not a 1 MiB multiple",
                ALL,
                (f, s) -> region(f, METADATA, 24, 4, MIB - 512),
                Expect.corrupt("region table entry Length").at(f -> f.regionEntry(REGION_TABLE1, METADATA) + 24)));
        cases.add(new Case(
                "metadata region Length 4095 MiB",
                ALL,
                (f, s) -> region(f, METADATA, 24, 4, 0xFFF0_0000L),
                Expect.corrupt("region " + METADATA.toString().toLowerCase())));
        cases.add(new Case(
                "BAT region over the metadata region",
                ALL,
                (f, s) -> region(f, BAT, 16, 8, f.regionOffset(METADATA)),
                Expect.corrupt("region").saying("overlaps region")));
        cases.add(new Case(
                "metadata region over the log",
                ALL,
                (f, s) -> region(f, METADATA, 16, 8, f.logOffset()),
                Expect.corrupt("region").saying("overlaps the log")));
        cases.add(new Case(
                "the metadata region listed as a second BAT region",
                ALL,
                (f, s) -> f.editBothRegionTables((g, t) -> g.putGuid(g.regionEntry(t, METADATA), BAT)),
                Expect.corrupt("region table entry Guid").saying("appears twice")));
        cases.add(new Case(
                "BAT region missing",
                ALL,
                (f, s) -> f.editBothRegionTables(
                        (g, t) -> g.putGuid(g.regionEntry(t, BAT), UNKNOWN).putU32(g.regionEntry(t, UNKNOWN) + 28, 0)),
                Expect.corrupt("region table").saying("BAT region is missing")));
        cases.add(new Case(
                "metadata region missing",
                ALL,
                (f, s) -> f.editBothRegionTables((g, t) ->
                        g.putGuid(g.regionEntry(t, METADATA), UNKNOWN).putU32(g.regionEntry(t, UNKNOWN) + 28, 0)),
                Expect.corrupt("region table").saying("metadata region is missing")));
        cases.add(new Case(
                "an unknown region marked required",
                ALL,
                (f, s) -> addRegion(f, true),
                Expect.unsupported("required region " + UNKNOWN)));
        cases.add(new Case("an unknown optional region", ALL, (f, s) -> addRegion(f, false), Expect.legal()));
    }

    private static final UUID UNKNOWN = UUID.fromString("c0ffee00-1234-4567-89ab-cdef01234567");

    private static void addRegion(VhdxSurgery f, boolean required) throws IOException {
        long at = f.append(MIB);
        long start = (at + MIB - 1) / MIB * MIB;
        f.append(start - at);
        f.editBothRegionTables((g, t) -> {
            long count = g.u32(t + 8);
            long entry = t + 16 + count * 32;
            g.putGuid(entry, UNKNOWN).putU64(entry + 16, start).putU32(entry + 24, MIB);
            g.putU32(entry + 28, required ? 1 : 0).putU32(t + 8, count + 1);
        });
    }

    private static void metadata(List<Case> cases) {
        cases.add(new Case(
                "metadata table signature",
                ALL,
                (f, s) -> f.putAscii(f.metadataOffset(), "METADATA"),
                Expect.corrupt("metadata table Signature").at(VhdxSurgery::metadataOffset)));
        for (long count : List.of(2048L, 0xFFFFL)) {
            cases.add(new Case(
                    "metadata EntryCount " + count,
                    ALL,
                    (f, s) -> f.putU16(f.metadataOffset() + 10, count),
                    Expect.corrupt("metadata table EntryCount").at(f -> f.metadataOffset() + 10)));
        }
        cases.add(new Case(
                "metadata EntryCount 0",
                ALL,
                (f, s) -> f.putU16(f.metadataOffset() + 10, 0),
                Expect.corrupt("metadata table").saying("File Parameters item is missing")));
        for (long blockSize : List.of(0L, 3 * MIB, MIB / 2, 512 * MIB, 0x8000_0000L, 0xFFFF_FFFFL)) {
            cases.add(new Case(
                    "BlockSize " + blockSize,
                    ALL,
                    (f, s) -> f.putU32(f.metadataItem(FILE_PARAMETERS), blockSize),
                    Expect.corrupt("BlockSize").at(f -> f.metadataItem(FILE_PARAMETERS))));
        }
        for (long sector : List.of(0L, 1024L, 0xFFFF_FFFFL)) {
            cases.add(new Case(
                    "LogicalSectorSize " + sector,
                    ALL,
                    (f, s) -> f.putU32(f.metadataItem(LOGICAL_SECTOR_SIZE), sector),
                    Expect.corrupt("LogicalSectorSize").at(f -> f.metadataItem(LOGICAL_SECTOR_SIZE))));
        }
        cases.add(new Case(
                "PhysicalSectorSize 520",
                ALL,
                (f, s) -> f.putU32(f.metadataItem(PHYSICAL_SECTOR_SIZE), 520),
                Expect.corrupt("PhysicalSectorSize").at(f -> f.metadataItem(PHYSICAL_SECTOR_SIZE))));
        for (long size : List.of(0L, 8 * MIB + 1, (64L << 40) + 512, 0x7FFF_FFFF_FFFF_FE00L, -512L)) {
            cases.add(new Case(
                    "VirtualDiskSize " + Long.toUnsignedString(size),
                    ALL,
                    (f, s) -> f.putU64(f.metadataItem(VIRTUAL_DISK_SIZE), size),
                    Expect.corrupt("VirtualDiskSize").at(f -> f.metadataItem(VIRTUAL_DISK_SIZE))));
        }
        cases.add(new Case(
                "VirtualDiskSize 64 TiB, more than the BAT region holds",
                ALL,
                (f, s) -> f.putU64(f.metadataItem(VIRTUAL_DISK_SIZE), 64L << 40),
                Expect.corrupt("BAT region").at(VhdxSurgery::batOffset)));
        Map<UUID, String> required = Map.of(
                FILE_PARAMETERS, "File Parameters",
                VIRTUAL_DISK_SIZE, "Virtual Disk Size",
                VIRTUAL_DISK_ID, "Virtual Disk ID",
                LOGICAL_SECTOR_SIZE, "Logical Sector Size",
                PHYSICAL_SECTOR_SIZE, "Physical Sector Size");
        required.forEach((item, name) -> cases.add(new Case(
                name + " item missing",
                ALL,
                (f, s) -> f.putGuid(f.metadataEntry(item), UNKNOWN).putU32(f.metadataEntry(UNKNOWN) + 24, 0),
                Expect.corrupt("metadata table").saying("required " + name + " item is missing"))));
        cases.add(new Case(
                "Parent Locator item missing",
                CHILDREN,
                (f, s) -> f.putGuid(f.metadataEntry(PARENT_LOCATOR), UNKNOWN).putU32(f.metadataEntry(UNKNOWN) + 24, 0),
                Expect.corrupt("metadata table").saying("required Parent Locator item is missing")));
        cases.add(new Case(
                "an unknown metadata item marked required",
                ALL,
                (f, s) -> f.addMetadataEntry(UNKNOWN, 0, 0, 4),
                Expect.unsupported("required metadata item " + UNKNOWN)));
        cases.add(new Case(
                "an unknown optional metadata item",
                ALL,
                (f, s) -> f.addMetadataEntry(UNKNOWN, 0, 0, 0),
                Expect.legal()));
        cases.add(new Case(
                "item Offset inside the table",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(FILE_PARAMETERS) + 16, 100),
                Expect.corrupt("metadata table entry Offset").at(f -> f.metadataEntry(FILE_PARAMETERS) + 16)));
        cases.add(new Case(
                "item beyond the end of the region",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(VIRTUAL_DISK_SIZE) + 16, f.regionLength(METADATA) - 4),
                Expect.corrupt("metadata table entry Offset").at(f -> f.metadataEntry(VIRTUAL_DISK_SIZE) + 16)));
        cases.add(new Case(
                "item Offset 2^32-1",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(VIRTUAL_DISK_SIZE) + 16, 0xFFFF_FFFFL),
                Expect.corrupt("metadata table entry Offset").at(f -> f.metadataEntry(VIRTUAL_DISK_SIZE) + 16)));
        cases.add(new Case(
                "item Length over 1 MiB",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(VIRTUAL_DISK_ID) + 20, MIB + 1),
                Expect.corrupt("metadata table entry Length").at(f -> f.metadataEntry(VIRTUAL_DISK_ID) + 20)));
        cases.add(new Case(
                "items overlapping",
                ALL,
                (f, s) ->
                        f.putU32(f.metadataEntry(VIRTUAL_DISK_SIZE) + 16, f.u32(f.metadataEntry(FILE_PARAMETERS) + 16)),
                Expect.corrupt("metadata table entry Offset").saying("overlaps")));
        cases.add(new Case(
                "an empty item with an offset",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(VIRTUAL_DISK_ID) + 20, 0),
                Expect.corrupt("metadata table entry Offset").at(f -> f.metadataEntry(VIRTUAL_DISK_ID) + 16)));
        cases.add(new Case(
                "File Parameters item 4 bytes long",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(FILE_PARAMETERS) + 20, 4),
                Expect.corrupt("Flags").at(f -> f.metadataItem(FILE_PARAMETERS) + 4)));
        cases.add(new Case(
                "Virtual Disk ID item 0 bytes long",
                ALL,
                (f, s) -> f.putU32(f.metadataEntry(VIRTUAL_DISK_ID) + 20, 0)
                        .putU32(f.metadataEntry(VIRTUAL_DISK_ID) + 16, 0),
                Expect.corrupt("VirtualDiskId")));
        cases.add(new Case(
                "an item listed twice",
                ALL,
                (f, s) -> f.putGuid(f.metadataEntry(VIRTUAL_DISK_ID), VIRTUAL_DISK_SIZE),
                Expect.corrupt("metadata table entry ItemId").saying("appears twice")));
        cases.add(new Case(
                "HasParent on a root",
                ROOTS,
                (f, s) -> f.putU32(f.metadataItem(FILE_PARAMETERS) + 4, f.u32(f.metadataItem(FILE_PARAMETERS) + 4) | 2),
                Expect.corrupt("metadata table").saying("required Parent Locator item is missing")));
        cases.add(new Case(
                "HasParent cleared on a child",
                CHILDREN,
                (f, s) -> f.putU32(f.metadataItem(FILE_PARAMETERS) + 4, 0),
                Expect.corrupt("BAT entry")));
    }

    private static void parentLocator(List<Case> cases) {
        cases.add(new Case(
                "locator type not the VHDX one",
                CHILDREN,
                (f, s) -> f.putGuid(f.metadataItem(PARENT_LOCATOR), UNKNOWN),
                Expect.unsupported("locator type")));
        cases.add(new Case(
                "parent_linkage missing",
                CHILDREN,
                (f, s) -> f.put(f.locatorEntry("parent_linkage").key(), utf16("PARENT_LINKAGE")),
                Expect.corrupt("parent_linkage")));
        cases.add(new Case(
                "parent_linkage not a GUID",
                CHILDREN,
                (f, s) -> f.put(f.locatorEntry("parent_linkage").value() + 4, utf16("z")),
                Expect.corrupt("parent_linkage").saying("is not a GUID")));
        cases.add(new Case(
                "KeyOffset beyond the item",
                CHILDREN,
                (f, s) -> f.putU32(f.locatorEntry("parent_linkage").entry(), 0xFFFF_0000L),
                Expect.corrupt("parent locator")));
        cases.add(new Case(
                "ValueOffset just inside the item, value beyond it",
                CHILDREN,
                (f, s) ->
                        f.putU32(f.locatorEntry("relative_path").entry() + 4, f.metadataItemLength(PARENT_LOCATOR) - 2),
                Expect.corrupt("parent locator")));
        cases.add(new Case(
                "KeyOffset 0",
                CHILDREN,
                (f, s) -> f.putU32(f.locatorEntry("relative_path").entry(), 0),
                Expect.corrupt("parent locator entry")));
        cases.add(new Case(
                "odd KeyLength",
                CHILDREN,
                (f, s) -> f.putU16(f.locatorEntry("relative_path").entry() + 8, 7),
                Expect.corrupt("parent locator entry").saying("even")));
        cases.add(new Case(
                "ValueLength 0",
                CHILDREN,
                (f, s) -> f.putU16(f.locatorEntry("relative_path").entry() + 10, 0),
                Expect.corrupt("parent locator entry")));
        cases.add(new Case(
                "a key listed twice",
                CHILDREN,
                (f, s) -> {
                    VhdxSurgery.LocatorEntry linkage = f.locatorEntry("parent_linkage");
                    long second = f.locatorEntry("relative_path").entry();
                    f.putU32(second, f.u32(linkage.entry())).putU16(second + 8, linkage.keyLength());
                },
                Expect.corrupt("parent locator entry").saying("appears twice")));
        cases.add(new Case(
                "KeyValueCount 65535",
                CHILDREN,
                (f, s) -> f.putU16(f.metadataItem(PARENT_LOCATOR) + 18, 0xFFFF),
                Expect.corrupt("parent locator")));
        cases.add(new Case(
                "no path to the parent",
                CHILDREN,
                (f, s) -> f.putU16(f.metadataItem(PARENT_LOCATOR) + 18, 1),
                Expect.corrupt("paths").saying("names no path")));
        cases.add(new Case(
                "a NUL inside relative_path",
                CHILDREN,
                (f, s) -> f.put(f.locatorEntry("relative_path").value() + 4, new byte[2]),
                Expect.corrupt("relative_path")));
    }

    /**
     * Not on the pending-log sample: its log carries the first BAT page, and replaying it would undo
     * the edit (the fuzzer breaks BAT pages inside log entries instead).
     */
    private static void bat(List<Case> cases) {
        for (int state : List.of(4, 5)) {
            cases.add(new Case(
                    "payload entry in reserved state " + state,
                    WITHOUT_LOG,
                    (f, s) -> f.setBatEntry(0, state),
                    Expect.corrupt("BAT entry 0").at(VhdxSurgery::batOffset)));
        }
        cases.add(new Case(
                "payload entry with reserved bits set",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(0, f.batEntry(0) | 0x100),
                Expect.corrupt("BAT entry 0").at(VhdxSurgery::batOffset).saying("reserved bits")));
        cases.add(new Case(
                "sector bitmap entry in reserved state 1",
                CHILDREN,
                (f, s) -> f.setBatEntry(BITMAP_ENTRY, f.batEntry(BITMAP_ENTRY) & ~7L | 1),
                Expect.corrupt("BAT entry " + BITMAP_ENTRY)));
        cases.add(new Case(
                "payload block beyond the end of the file",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 0), VhdxSurgery.batEntry(6, 1L << 40)),
                Expect.corrupt("BAT entry").saying("truncated")));
        cases.add(new Case(
                "payload block inside the header section",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 0), VhdxSurgery.batEntry(6, 0)),
                Expect.corrupt("BAT entry").saying("header section")));
        cases.add(new Case(
                "payload block at the largest FileOffsetMB",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 0), 0xFFFF_FFFF_FFF0_0006L),
                Expect.corrupt("BAT entry")));
        cases.add(new Case(
                "two payload blocks at one offset",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 1), f.batEntry(allocated(f, 0))),
                Expect.corrupt("BAT entry").saying("overlaps")));
        cases.add(new Case(
                "payload block over the metadata region",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 0), VhdxSurgery.batEntry(6, f.metadataOffset())),
                Expect.corrupt("BAT entry").saying("overlaps")));
        cases.add(new Case(
                "payload block over the log",
                WITHOUT_LOG,
                (f, s) -> f.setBatEntry(allocated(f, 0), VhdxSurgery.batEntry(6, f.logOffset())),
                Expect.corrupt("BAT entry").saying("overlaps")));
        cases.add(new Case(
                "PARTIALLY_PRESENT in a root",
                ROOTS,
                (f, s) -> f.setBatEntry(allocated(f, 0), f.batEntry(allocated(f, 0)) | 7),
                Expect.corrupt("BAT entry").saying("PARTIALLY_PRESENT")));
        cases.add(new Case(
                "PARTIALLY_PRESENT without a sector bitmap block",
                CHILDREN,
                (f, s) -> f.setBatEntry(BITMAP_ENTRY, 0),
                Expect.corrupt("BAT entry").saying("no sector bitmap block")));
        cases.add(new Case(
                "sector bitmap block beyond the end of the file",
                CHILDREN,
                (f, s) -> f.setBatEntry(BITMAP_ENTRY, VhdxSurgery.batEntry(6, 1L << 40)),
                Expect.corrupt("BAT entry").saying("truncated")));
        cases.add(new Case(
                "sector bitmap block over a payload block",
                CHILDREN,
                (f, s) -> f.setBatEntry(BITMAP_ENTRY, f.batEntry(allocated(f, 0)) & ~7L | 6),
                Expect.corrupt("BAT entry").saying("overlaps")));
    }

    /** The sector bitmap entry of chunk 0 with 1 MiB blocks and 512-byte sectors (chunk ratio 4096). */
    private static final long BITMAP_ENTRY = 4096;

    /** The index of the n-th payload entry that points into the file. */
    private static long allocated(VhdxSurgery f, int n) throws IOException {
        List<Long> found = new ArrayList<>(f.batEntriesInState(6, 4096));
        found.addAll(f.batEntriesInState(7, 4096));
        found.sort(null);
        return found.get(n);
    }

    private static void log(List<Case> cases) {
        cases.add(new Case(
                "log entry data byte flipped",
                LOG,
                (f, s) -> f.flip(f.logEntries().get(0) + 4096 + 100),
                Expect.corrupt("log").saying("no valid log sequence").at(VhdxSurgery::logOffset)));
        cases.add(new Case(
                "log entry signature",
                LOG,
                (f, s) -> f.putAscii(f.logEntries().get(0), "LOGE"),
                Expect.corrupt("log").saying("no valid log sequence")));
        cases.add(new Case(
                "log entry LogGuid not the header's",
                LOG,
                (f, s) -> logEntry(f, e -> f.putGuid(e + 32, UNKNOWN)),
                Expect.corrupt("log").saying("no valid log sequence")));
        cases.add(new Case(
                "log entry SequenceNumber 0",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 16, 0)),
                Expect.corrupt("log").saying("no valid log sequence")));
        cases.add(new Case(
                "log entry EntryLength beyond the log",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU32(e + 8, f.logLength() + 4096)),
                Expect.corrupt("log").saying("no valid log sequence")));
        cases.add(new Case(
                "log entry FlushedFileOffset beyond the end of the file",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 48, 1L << 40)),
                Expect.corrupt("FlushedFileOffset")));
        cases.add(new Case(
                "log entry LastFileOffset 2^62",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 56, 1L << 62)),
                Expect.corrupt("LastFileOffset")));
        cases.add(new Case(
                "log descriptor writing over header 1",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 64 + 16, HEADER1)),
                Expect.corrupt("log entry descriptor")));
        cases.add(new Case(
                "log descriptor writing into the log",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 64 + 16, f.logOffset())),
                Expect.corrupt("log entry descriptor")));
        cases.add(new Case(
                "log descriptor writing at 2^50",
                LOG,
                (f, s) -> logEntry(f, e -> f.putU64(e + 64 + 16, 1L << 50)),
                Expect.corrupt("log entry descriptor")));
        cases.add(new Case(
                "log zero descriptor of 2^50 bytes",
                LOG,
                (f, s) -> logEntry(f, e -> f.putAscii(e + 64, "zero").putU64(e + 64 + 8, 1L << 50)),
                Expect.corrupt("log entry descriptor")));
    }

    @FunctionalInterface
    private interface EntryEdit {
        void apply(long entry) throws IOException;
    }

    /** Edits the newest log entry and fixes its checksum, so the field is what the engine meets. */
    private static void logEntry(VhdxSurgery f, EntryEdit edit) throws IOException {
        List<Long> entries = f.logEntries();
        long entry = entries.get(entries.size() - 1);
        edit.apply(entry);
        f.fixLogEntry(entry);
    }

    /** Sets a field of the current header (the one a reader uses), keeping its checksum valid. */
    private static void current(VhdxSurgery f, int field, int width, long value) throws IOException {
        long header = f.currentHeader();
        put(f, header + field, width, value);
        f.fixHeader(header);
    }

    /** Sets a field of both headers, keeping their checksums valid. */
    private static void both(VhdxSurgery f, int field, int width, long value) throws IOException {
        for (long header : List.of(HEADER1, HEADER2)) {
            put(f, header + field, width, value);
            f.fixHeader(header);
        }
    }

    /** Sets a field of a region's entry in both region table copies, keeping them valid. */
    private static void region(VhdxSurgery f, UUID region, int field, int width, long value) throws IOException {
        f.editBothRegionTables((g, t) -> put(g, g.regionEntry(t, region) + field, width, value));
    }

    private static void put(VhdxSurgery f, long at, int width, long value) throws IOException {
        switch (width) {
            case 2 -> f.putU16(at, value);
            case 4 -> f.putU32(at, value);
            case 8 -> f.putU64(at, value);
            default -> throw new IllegalArgumentException("width " + width);
        }
    }

    private static byte[] utf16(String text) {
        return text.getBytes(StandardCharsets.UTF_16LE);
    }

    static Stream<Arguments> corruptions() {
        return cases().stream().flatMap(c -> c.samples().stream().map(sample -> Arguments.of(c, sample)));
    }

    // ---------------------------------------------------------------------------------------------
    // The checks

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource("corruptions")
    void brokenFilesAreRefusedWithATypedErrorAndNeverWritten(Case c, VhdxSamples sample) throws Exception {
        Path folder = copy(sample);
        Path file = folder.resolve(sample.target());
        Long offset;
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            offset = c.expect().offset() == null ? null : c.expect().offset().of(surgery);
            c.mutation().apply(surgery, sample);
        }
        if (c.expect().isLegal()) {
            assertLegal(file, sample);
        } else {
            assertRefused(c.name() + " in " + sample, folder, file, c.expect(), offset);
        }
    }

    static Stream<Arguments> truncations() {
        List<Arguments> arguments = new ArrayList<>();
        long[] lengths = {
            0,
            1,
            8,
            520,
            4096,
            64 * 1024,
            64 * 1024 + 80,
            128 * 1024 + 4095,
            192 * 1024,
            192 * 1024 + 16,
            256 * 1024 + 40,
            320 * 1024,
            MIB - 1,
            MIB,
            MIB + 4096,
            2 * MIB - 1,
            2 * MIB,
            2 * MIB + 65536,
            3 * MIB,
            3 * MIB + 8,
            4 * MIB - 1,
            4 * MIB
        };
        for (VhdxSamples sample : VhdxSamples.values()) {
            for (long length : lengths) {
                arguments.add(Arguments.of(sample, length, false));
            }
            for (long fromEnd : new long[] {MIB + 512, MIB, 4096, 1}) {
                arguments.add(Arguments.of(sample, fromEnd, true));
            }
        }
        return arguments.stream();
    }

    @ParameterizedTest(name = "{0} cut to {1} bytes (from the end: {2})")
    @MethodSource("truncations")
    void truncatedFilesAreRefusedWithATypedErrorAndNeverWritten(VhdxSamples sample, long length, boolean fromEnd)
            throws Exception {
        Path folder = copy(sample);
        Path file = folder.resolve(sample.target());
        long size = Files.size(file);
        long cut = fromEnd ? size - length : length;
        if (cut >= size) {
            return; // the sample is smaller than this length: nothing is cut
        }
        try (VhdxSurgery surgery = VhdxSurgery.open(file)) {
            surgery.truncate(cut);
        }
        assertRefused(sample + " cut to " + cut + " bytes", folder, file, Expect.corrupt(null), null);
    }

    /**
     * The log search tries every 4 KiB position (MS-VHDX 2.3.3). A 64 MiB log whose every position
     * holds an entry header with the right LogGuid, claiming the whole log, and a wrong checksum,
     * would have it checksum 16384 x 64 MiB. It must give up with a typed error at once instead.
     */
    @Test
    void aLogOfOverlappingEntryClaimsIsRefusedWithoutSearchingForHours() throws Exception {
        Path folder = copy(VhdxSamples.ENGINE_DYNAMIC);
        Path file = folder.resolve(VhdxSamples.ROOT);
        long logLength = 64 * MIB;
        UUID logGuid = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        try (VhdxSurgery f = VhdxSurgery.open(file)) {
            long log = (f.size() + MIB - 1) / MIB * MIB;
            f.append(log + logLength - f.size());
            for (long header : List.of(HEADER1, HEADER2)) {
                f.putU64(header + LOG_OFFSET_AT, log).putU32(header + LOG_LENGTH_AT, logLength);
                f.putGuid(header + 48, logGuid).fixHeader(header);
            }
            for (long at = log; at < log + logLength; at += 4096) {
                f.putAscii(at, "loge").putU32(at + 4, 0x12345678L).putU32(at + 8, logLength);
                f.putU64(at + 16, 1).putGuid(at + 32, logGuid);
            }
        }
        Map<Path, String> before = Fingerprint.ofTree(folder);
        for (Access access : Access.values()) {
            Throwable thrown = assertTimeoutPreemptively(
                    Duration.ofSeconds(60), () -> catchThrowable(() -> readAll(file, access)), access.name());
            assertError(thrown, Expect.corrupt("log"), null, "a log of overlapping entry claims, " + access);
        }
        assertThat(Fingerprint.ofTree(folder)).isEqualTo(before);
    }

    /** A copy of the sample's chain in this test's own folder. */
    private Path copy(VhdxSamples sample) throws IOException {
        if (sample.madeByQemu()) {
            Oracles.requireQemu();
        }
        Path from = sample.folder(samples);
        Path to = Files.createDirectories(work.resolve(from.getFileName()));
        for (String name : List.of(VhdxSamples.ROOT, VhdxSamples.CHILD)) {
            Files.copy(from.resolve(name), to.resolve(name));
        }
        return to;
    }

    /** Every way in must refuse with the expected error, and no file of the chain may change. */
    private static void assertRefused(String label, Path folder, Path file, Expect expect, Long offset)
            throws IOException {
        Map<Path, String> before = Fingerprint.ofTree(folder);

        Throwable read = catchThrowable(() -> readAll(file, Access.READ));
        assertError(read, expect, offset, label + ": " + "opened to read");
        assertThat(Fingerprint.ofTree(folder))
                .as("%s: files after a read", label)
                .isEqualTo(before);

        Throwable writableRead = catchThrowable(() -> readAll(file, Access.WRITE));
        assertError(writableRead, expect, offset, label + ": " + "opened to write, then read");
        assertThat(Fingerprint.ofTree(folder))
                .as("%s: files after opening to write", label)
                .isEqualTo(before);

        Throwable write = catchThrowable(() -> writeOneSector(file));
        assertError(write, expect, null, label + ": " + "opened to write, then written");
        assertThat(Fingerprint.ofTree(folder))
                .as("%s: files after a write was asked for", label)
                .isEqualTo(before);

        Throwable merge = catchThrowable(() -> Merge.run(
                MergeRequest.of(folder.resolve(VhdxSamples.CHILD)).withScanRoots(List.of(folder)), MergeProgress.NONE));
        assertError(merge, expect, null, label + ": " + "in a chain a merge is asked to run on");
        assertThat(Fingerprint.ofTree(folder))
                .as("%s: files after a refused merge", label)
                .isEqualTo(before);
    }

    private static void assertError(Throwable thrown, Expect expect, Long offset, String how) {
        assertThat(thrown).as("the engine accepted a broken file (%s)", how).isNotNull();
        assertThat(thrown)
                .as(() -> "the error when %s:%n%s".formatted(how, stackTrace(thrown)))
                .isInstanceOf(expect.type());
        if (expect.message() != null) {
            assertThat(thrown.getMessage()).as(how).contains(expect.message());
        }
        if (thrown instanceof CorruptDiskException corrupt && expect.type() == CorruptDiskException.class) {
            assertThat(corrupt.getMessage())
                    .as("the error names the file")
                    .contains(corrupt.file().getFileName().toString());
            if (expect.field() != null) {
                assertThat(corrupt.field())
                        .as("the field at fault (%s): %s", how, corrupt.getMessage())
                        .contains(expect.field());
            }
            if (offset != null) {
                assertThat(corrupt.offset())
                        .as("the offset at fault (%s): %s", how, corrupt.getMessage())
                        .isEqualTo(offset);
            }
        }
    }

    /** A file the spec lets a reader accept: it opens, verifies and reads what it read before, unchanged. */
    private static void assertLegal(Path file, VhdxSamples sample) throws IOException {
        String before = Fingerprint.of(file);
        assertThat(content(file)).as("what the file reads").isEqualTo(CONTENT.get(sample));
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            disk.verify();
        }
        assertThat(Fingerprint.of(file)).isEqualTo(before);
    }

    /** Opens the file and reads everything it defines, then verifies it. */
    private static void readAll(Path file, Access access) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, access)) {
            List<Extent> extents = new ArrayList<>();
            disk.extents(0, disk.virtualSize(), extents);
            for (Extent extent : extents) {
                if (!extent.isZero()) {
                    for (long at = 0; at < extent.length(); at += MIB) {
                        int n = (int) Math.min(MIB, extent.length() - at);
                        disk.readStored(extent.fileOffset() + at, ByteBuffer.allocate(n));
                    }
                }
            }
            disk.verify();
        }
    }

    private static void writeOneSector(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.WRITE)) {
            disk.write(0, ByteBuffer.allocate(disk.logicalSectorSize()));
            disk.commit();
        }
    }

    /** The SHA-256 of what the file alone defines: its extents and their bytes. */
    private static String content(Path file) throws IOException {
        try (VirtualDisk disk = DiskFiles.open(file, Access.READ)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Extent> extents = new ArrayList<>();
            disk.extents(0, disk.virtualSize(), extents);
            for (Extent extent : extents) {
                sha.update((extent.offset() + "+" + extent.length() + extent.kind()).getBytes(StandardCharsets.UTF_8));
            }
            ChainReader reader = new ChainReader(List.of(disk), disk.virtualSize());
            ByteBuffer buffer = ByteBuffer.allocate((int) MIB);
            for (long at = 0; at < disk.virtualSize(); at += MIB) {
                buffer.clear().limit((int) Math.min(MIB, disk.virtualSize() - at));
                reader.read(at, buffer);
                sha.update(buffer.flip());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String stackTrace(Throwable thrown) {
        if (thrown == null) {
            return "(nothing thrown)";
        }
        StringWriter out = new StringWriter();
        thrown.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
