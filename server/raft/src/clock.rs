//! The leader's wall clock, injected so tests can drive it (see `corvo-clock`). Nothing else
//! in this crate reads the time of day: `now_ms` reaches the state machine only inside a
//! proposed `Batch`.

pub use corvo_clock::{Clock, SystemClock};
