//! The order in which a run's blocks are handed to threads and merged: blocks go out in
//! order, at most a window of them at a time, and come back to be merged strictly in block
//! order, whichever thread finishes first.

use super::RunAcc;
use crate::error::{Error, Result};

/// Hands out blocks in order and merges their results in order, as they finish, with at
/// most `window` blocks taken but not yet merged (which bounds memory like a wave did,
/// without making threads wait for each other at a wave's end).
pub(super) struct Schedule {
    blocks: u64,
    window: u64,
    cancel: crate::Cancel,
    state: std::sync::Mutex<ScheduleState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct ScheduleState {
    /// Next block to hand out, and next block to merge.
    next: u64,
    merged: u64,
    /// Finished blocks waiting for an earlier one.
    pending: std::collections::BTreeMap<u64, RunAcc>,
    /// A thread is merging (merges are serial, in block order).
    merging: bool,
    /// Draws merged so far.
    draws: u64,
    /// The failure of the lowest failed block, if any; no block is handed out after one.
    error: Option<(u64, Error)>,
    /// Every worker has returned.
    closed: bool,
}

impl Schedule {
    pub(super) fn new(blocks: u64, window: u64, cancel: crate::Cancel) -> Self {
        Schedule {
            blocks,
            window: window.max(1),
            cancel,
            state: Default::default(),
            changed: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScheduleState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next block to run, waiting while the window is full; `None` when every block is
    /// handed out, a block has failed, or the run is interrupted.
    pub(super) fn take(&self) -> Option<u64> {
        let mut st = self.lock();
        loop {
            if self.cancel.is_cancelled() && st.error.is_none() {
                st.error = Some((u64::MAX, Error::Interrupted));
                self.changed.notify_all();
            }
            if st.error.is_some() || st.next >= self.blocks {
                return None;
            }
            if st.next < st.merged + self.window {
                st.next += 1;
                return Some(st.next - 1);
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Block `b` is done: merge it, and any finished blocks after it, if it is the next in
    /// order and no other thread is merging. `merge(k, acc)` merges block k and returns the
    /// draws done once it is merged.
    pub(super) fn finish(&self, b: u64, acc: RunAcc, merge: impl Fn(u64, RunAcc) -> u64) {
        let mut st = self.lock();
        st.pending.insert(b, acc);
        if st.merging {
            return;
        }
        st.merging = true;
        loop {
            let m = st.merged;
            let Some(next) = st.pending.remove(&m) else {
                break;
            };
            drop(st);
            let draws = merge(m, next);
            st = self.lock();
            st.merged += 1;
            st.draws = draws;
            self.changed.notify_all();
        }
        st.merging = false;
    }

    /// Block `b` failed: stop handing out blocks and keep the failure of the lowest block
    /// (the same one whatever the thread count, since blocks are handed out in order and
    /// every block handed out runs to its end).
    pub(super) fn fail(&self, b: u64, e: Error) {
        let mut st = self.lock();
        if st.error.as_ref().is_none_or(|(k, _)| b < *k) {
            st.error = Some((b, e));
        }
        self.changed.notify_all();
    }

    /// Every worker has returned.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Wait until more than `shown` draws are merged, or the run ends (`None`).
    pub(super) fn wait_progress(&self, shown: u64) -> Option<u64> {
        let mut st = self.lock();
        loop {
            if st.draws > shown {
                return Some(st.draws);
            }
            if st.closed {
                return None;
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The run's failure, if any.
    pub(super) fn result(&self) -> Result<()> {
        match self.lock().error.take() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn empty() -> RunAcc {
        RunAcc {
            vertical: None,
            path: Vec::new(),
            agreements: Vec::new(),
        }
    }

    /// Several threads finishing blocks out of order (block b takes longer the smaller
    /// `b % 3` is): merges still come in block order, never more than `window` blocks are
    /// out at once, and progress ends at the last block.
    #[test]
    fn schedule_merges_in_block_order_within_its_window() {
        let (blocks, window) = (40, 3);
        let sched = Schedule::new(blocks, window, crate::Cancel::new());
        let order = std::sync::Mutex::new(Vec::new());
        let out = AtomicU64::new(0);
        let most = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    while let Some(b) = sched.take() {
                        let now = out.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_micros(200 * (3 - b % 3)));
                        sched.finish(b, empty(), |k, _| {
                            order.lock().unwrap().push(k);
                            out.fetch_sub(1, Ordering::SeqCst);
                            k + 1
                        });
                    }
                });
            }
        });
        sched.close();
        assert_eq!(*order.lock().unwrap(), (0..blocks).collect::<Vec<_>>());
        assert_eq!(sched.wait_progress(0), Some(blocks));
        assert_eq!(sched.wait_progress(blocks), None);
        assert!(most.load(Ordering::SeqCst) <= window, "window exceeded");
        assert!(sched.result().is_ok());
    }

    /// The reported failure is the lowest failed block's, even when a later block fails
    /// first, and no block is handed out after a failure.
    #[test]
    fn schedule_reports_the_lowest_failed_block() {
        let sched = Schedule::new(10, 4, crate::Cancel::new());
        let taken: Vec<u64> = (0..4).map(|_| sched.take().unwrap()).collect();
        assert_eq!(taken, [0, 1, 2, 3]);
        sched.fail(3, Error::Runtime("block 3".into()));
        assert_eq!(sched.take(), None);
        sched.fail(1, Error::Runtime("block 1".into()));
        sched.fail(2, Error::Runtime("block 2".into()));
        sched.finish(0, empty(), |_, _| 1);
        match sched.result() {
            Err(Error::Runtime(m)) => assert_eq!(m, "block 1"),
            other => panic!("expected block 1's error, got {other:?}"),
        }
    }
}
