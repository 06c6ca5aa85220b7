//! Data-parallel map over a slice on the process-wide rayon pool, keeping the input order.
//! One pool for the whole run means worker threads (and their allocator heaps) are reused by
//! every phase instead of being started afresh.

use rayon::prelude::*;

/// Apply `f` to every item in parallel; results keep input order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    items.par_iter().map(f).collect()
}
