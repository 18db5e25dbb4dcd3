package io.chainmerge.disk;

/** One way a differencing disk names its parent's file, as stored in the file. */
public record ParentPath(Kind kind, String value) {

    public enum Kind {
        /** Relative to the child's folder, Windows separators (VHDX relative_path, VHD W2ru). */
        RELATIVE,
        /** {@code \\?\Volume{GUID}\path} (VHDX volume_path). */
        VOLUME,
        /** An absolute Windows path (VHDX absolute_win32_path, VHD W2ku, VHD parent unicode name). */
        ABSOLUTE,
        /** A form chainmerge does not resolve (Mac locators, unknown keys); kept for display only. */
        OTHER
    }
}
