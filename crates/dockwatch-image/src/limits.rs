//! Bounds on what hostile images may make the analysis read, decompress or keep in memory.

/// Limits applied while reading an image. Every one gives a clear error when exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest layer blob accepted, as its manifest declares it (checked before any download)
    /// and as it is actually read.
    pub max_layer_bytes: u64,
    /// Largest decompressed layer tar (gzip and zstd bombs stop here).
    pub max_uncompressed_layer_bytes: u64,
    /// Most tar entries in one layer.
    pub max_layer_entries: u64,
    /// Largest single file kept for the catalogers; a larger wanted file is skipped with a warning.
    pub max_file_bytes: u64,
    /// Largest manifest, index or image config read into memory.
    pub max_metadata_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        const GIB: u64 = 1 << 30;
        Self {
            max_layer_bytes: 16 * GIB,
            max_uncompressed_layer_bytes: 64 * GIB,
            max_layer_entries: 10_000_000,
            max_file_bytes: 512 << 20,
            max_metadata_bytes: 16 << 20,
        }
    }
}

/// Writes a byte count the way the limits are written in errors (`16 GiB`, `512 MiB`, `100 B`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(human_bytes(16 << 30), "16 GiB");
        assert_eq!(human_bytes(1000), "1000 B");
        assert_eq!(human_bytes(3 << 10), "3 KiB");
    }
}
