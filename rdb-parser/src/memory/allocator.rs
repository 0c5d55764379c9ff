//! Usable sizes: what the allocator really hands out for a request of `n` bytes.
//!
//! `MEMORY USAGE` counts allocations by their usable size (`zmalloc_size`), so every
//! estimate goes through [`Allocator::usable`].

/// The allocator a server binary was linked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Allocator {
    /// jemalloc as bundled with official Redis and Valkey builds and their Docker images
    /// (configured with an 8-byte quantum: 8, 16, 24, 32, 40, 48, 56, 64, 80, ...).
    #[default]
    Jemalloc,
    /// A distribution's system jemalloc (Debian's `redis-server`, for example), built with
    /// the default 16-byte quantum: no 24-, 40- or 56-byte classes.
    Jemalloc16,
    /// glibc malloc (`MALLOC=libc` builds, such as the servers bundled in Python packages).
    Libc,
}

/// glibc's initial mmap threshold: chunks at least this large are page-rounded mappings.
const GLIBC_MMAP_THRESHOLD: u64 = 128 * 1024;
/// Page size assumed for mapped chunks.
const PAGE: u64 = 4096;

impl Allocator {
    /// Every allocator, in the order of [`Allocator::name`]'s documentation.
    pub const ALL: [Allocator; 3] = [Allocator::Jemalloc, Allocator::Jemalloc16, Allocator::Libc];

    /// The name used on the command line: `jemalloc`, `jemalloc-16` or `libc`.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::Jemalloc => "jemalloc",
            Allocator::Jemalloc16 => "jemalloc-16",
            Allocator::Libc => "libc",
        }
    }

    /// Parses a name as [`Allocator::name`] prints it.
    pub fn from_name(name: &str) -> Option<Allocator> {
        Allocator::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The usable size of an allocation of `n` bytes.
    pub fn usable(self, n: u64) -> u64 {
        match self {
            Allocator::Jemalloc => jemalloc(n, 8),
            Allocator::Jemalloc16 => jemalloc(n, 16),
            Allocator::Libc => glibc(n),
        }
    }
}

impl Allocator {
    /// The usable size after an allocation of `capacity` bytes is shrunk with `realloc`
    /// to `len` bytes. jemalloc moves to the smaller class; glibc keeps the chunk when
    /// the tail it would free is smaller than its 32-byte minimum chunk.
    pub fn shrunk(self, capacity: u64, len: u64) -> u64 {
        match self {
            Allocator::Libc if len < capacity && self.usable(capacity) - self.usable(len) < 32 => self.usable(capacity),
            _ => self.usable(len),
        }
    }
}

/// jemalloc 5 size classes for quantum `q`: 8, then q..4q in steps of q, then four
/// classes per doubling (b + b/4, b + 2b/4, b + 3b/4, 2b for every power of two b ≥ 4q).
fn jemalloc(n: u64, q: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 4 * q {
        return round_up(n, q);
    }
    // n lies in (b, 2b] for a power of two b ≥ 4q; classes there are b/4 apart.
    let b = n.checked_next_power_of_two().map_or(1 << 63, |p| p / 2);
    round_up(n, (b / 4).max(1))
}

/// glibc malloc on x86-64: 16-byte aligned chunks with an 8-byte header, at least 32
/// bytes; large requests become page-rounded mappings with a 16-byte header.
fn glibc(n: u64) -> u64 {
    let chunk = (n.saturating_add(8 + 15) & !15).max(32);
    if chunk >= GLIBC_MMAP_THRESHOLD {
        return round_up(chunk.saturating_add(8), PAGE).saturating_sub(16);
    }
    chunk - 8
}

fn round_up(n: u64, step: u64) -> u64 {
    n.div_ceil(step).saturating_mul(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_quantum_8_classes() {
        let classes = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640];
        let mut prev = 0;
        for c in classes {
            assert_eq!(Allocator::Jemalloc.usable(c), c, "class {c}");
            assert_eq!(Allocator::Jemalloc.usable(prev + 1), c, "just above {prev}");
            prev = c;
        }
        assert_eq!(Allocator::Jemalloc.usable(0), 8);
        assert_eq!(Allocator::Jemalloc.usable(4097), 5120);
        assert_eq!(Allocator::Jemalloc.usable(100 * 1024 + 20), 112 * 1024);
    }

    #[test]
    fn jemalloc_quantum_16_has_no_odd_multiples_of_8() {
        let classes = [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192];
        let mut prev = 0;
        for c in classes {
            assert_eq!(Allocator::Jemalloc16.usable(prev + 1), c, "just above {prev}");
            prev = c;
        }
        assert_eq!(Allocator::Jemalloc16.usable(24), 32);
        assert_eq!(Allocator::Jemalloc16.usable(40), 48);
        assert_eq!(Allocator::Jemalloc16.usable(56), 64);
    }

    #[test]
    fn glibc_chunks() {
        // 32-byte minimum chunk, 8 bytes of header, 16-byte steps.
        assert_eq!(Allocator::Libc.usable(1), 24);
        assert_eq!(Allocator::Libc.usable(24), 24);
        assert_eq!(Allocator::Libc.usable(25), 40);
        assert_eq!(Allocator::Libc.usable(40), 40);
        assert_eq!(Allocator::Libc.usable(41), 56);
        // Mapped: page-rounded, 16 bytes of header.
        assert_eq!(Allocator::Libc.usable(200_000), 200_704 - 16);
    }

    #[test]
    fn shrinking_keeps_small_glibc_tails() {
        assert_eq!(Allocator::Libc.shrunk(100, 90), 104);
        assert_eq!(Allocator::Libc.shrunk(100, 60), 72);
        assert_eq!(Allocator::Jemalloc.shrunk(100, 90), 96);
    }

    #[test]
    fn names_round_trip() {
        for a in Allocator::ALL {
            assert_eq!(Allocator::from_name(a.name()), Some(a));
        }
        assert_eq!(Allocator::from_name("tcmalloc"), None);
    }
}
