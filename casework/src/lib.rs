//! Case-handling rules of the district's government service platform, as
//! pure logic: no files, no database, no network. The backend's service
//! layer calls these functions and stores what they return.
//!
//! - [`engine`]: the case state machine (who may do what, when).
//! - [`calendar`]: Chinese working days and the State Council holiday files.
//! - [`deadline`]: time limits with the clock stopped (补正, 特别程序).
//! - [`ids`]: unified social credit codes and case number templates.
//! - [`export`]: status codes for the provincial exchange.

pub mod calendar;
pub mod deadline;
pub mod engine;
pub mod export;
pub mod ids;
