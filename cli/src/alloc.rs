//! Heap tuning applied once at start-up.
//!
//! glibc serves a block above its mmap threshold with its own mapping and, by default,
//! raises that threshold to the size of every such block freed (up to 32 MiB). After one
//! big value has come and gone, later big buffers land in the arenas, where freed space is
//! rarely handed back: a dump of keys just under 64 MiB then peaked at 95 MiB instead of 77.
//! A fixed threshold keeps every buffer of 1 MiB or more in a mapping of its own, returned
//! to the system the moment it is freed.

/// Blocks this size or larger get a mapping of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 20;

/// Fixes glibc's mmap threshold (a no-op where the C library is another).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mallopt` only changes allocator parameters; it is called before any
    // other thread exists and takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Fixes glibc's mmap threshold (a no-op where the C library is another).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
