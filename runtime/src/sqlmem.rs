//! SQLite's memory allocator: dlmalloc, like Rust's (`lib.rs`), instead of musl's.
//!
//! musl's mallocng returns a group of small slots to the kernel as soon as the group is
//! empty, and SQLite allocates and frees the same few sizes on every statement, so each
//! step of a run paid for mmap, page faults and munmap (with Rust's allocations, about a
//! fifth of a step's CPU in `perf`). dlmalloc keeps freed memory for reuse. It is
//! registered with `SQLITE_CONFIG_MALLOC` before the first connection opens; if SQLite is
//! already initialised (a connection opened earlier), its own allocator stays.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::{c_int, c_void};
use std::sync::Once;

use dlmalloc::GlobalDlmalloc;
use rusqlite::ffi;

/// Bytes before each block: its requested size (SQLite's `xSize` must return it), keeping
/// the block 16-byte aligned.
const HEADER: usize = 16;

unsafe fn layout(size: usize) -> Layout {
    Layout::from_size_align_unchecked(size + HEADER, HEADER)
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    if n <= 0 {
        return std::ptr::null_mut();
    }
    let base = GlobalDlmalloc.alloc(layout(n as usize));
    if base.is_null() {
        return std::ptr::null_mut();
    }
    *(base as *mut usize) = n as usize;
    base.add(HEADER) as *mut c_void
}

unsafe fn base_of(p: *mut c_void) -> (*mut u8, usize) {
    let base = (p as *mut u8).sub(HEADER);
    (base, *(base as *const usize))
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if !p.is_null() {
        let (base, size) = base_of(p);
        GlobalDlmalloc.dealloc(base, layout(size));
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        return x_malloc(n);
    }
    if n <= 0 {
        x_free(p);
        return std::ptr::null_mut();
    }
    let (base, size) = base_of(p);
    let moved = GlobalDlmalloc.realloc(base, layout(size), n as usize + HEADER);
    if moved.is_null() {
        return std::ptr::null_mut();
    }
    *(moved as *mut usize) = n as usize;
    moved.add(HEADER) as *mut c_void
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        0
    } else {
        base_of(p).1 as c_int
    }
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    (n + 7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Register the allocator (once, before SQLite initialises).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| unsafe {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SQLite copies the methods. SQLITE_MISUSE when it is initialised already (a
        // connection opened before): it keeps its own allocator then.
        let _ = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const _);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_and_contents_across_realloc() {
        unsafe {
            assert!(x_malloc(0).is_null());
            let p = x_malloc(10) as *mut u8;
            assert_eq!(p as usize % HEADER, 0);
            assert_eq!(x_size(p as *mut c_void), 10);
            for i in 0..10 {
                *p.add(i) = i as u8;
            }
            let q = x_realloc(p as *mut c_void, 100_000) as *mut u8;
            assert_eq!(x_size(q as *mut c_void), 100_000);
            assert!((0..10).all(|i| *q.add(i) == i as u8));
            assert!(x_realloc(q as *mut c_void, 0).is_null()); // frees
            x_free(std::ptr::null_mut());
            assert_eq!(x_roundup(13), 16);
        }
    }

    #[test]
    fn a_store_works_on_it() {
        install();
        let dir = std::env::temp_dir().join(format!("sqlmem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.db");
        let store = crate::store::Store::open(path.to_str().unwrap(), false, "i").unwrap();
        store.register("t", "s", "{}", |_| true).unwrap();
        let big = format!("\"{}\"", "x".repeat(300_000));
        assert_eq!(store.put("k", &big).unwrap(), big);
        assert_eq!(store.lookup("k").unwrap().as_deref(), Some(big.as_str()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
