//! The process's log captured in memory, for tests that read what was logged.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log lines, shared with the test.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// The process's log at the levels `filter` selects (`target=level` directives), captured by one
/// subscriber for every test of the binary (the first call's filter applies).
pub fn captured(filter: &str) -> &'static Lines {
    static LOG: OnceLock<Lines> = OnceLock::new();
    LOG.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        let filter: Targets = filter.parse().expect("a valid log filter");
        tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
            .with(filter)
            .init();
        lines
    })
}
