//! One controller per page adapter of `ui/globals/`: each installs the
//! adapter's callbacks and keeps its properties up to date.

pub mod app;
pub mod apply;
pub mod camera;
pub(crate) mod frames;
pub mod guide;
pub mod home;
pub mod keyboard;
pub mod maintenance;
pub mod query;
