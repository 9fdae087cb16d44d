//! One controller per page adapter of `ui/globals/`: each installs the
//! adapter's callbacks and keeps its properties up to date.

pub mod app;
pub mod camera;
pub mod home;
pub mod maintenance;
pub mod query;
