//! `HomeAdapter`: the eight tiles. 我要办, 我要查 and 办事指南 open their
//! journeys; the others say 即将开放 in the window itself.

use std::sync::Arc;

use slint::ComponentHandle;

use crate::app::Shared;
use crate::controllers::{guide, query};
use crate::ui::{AppAdapter, HomeAdapter, MainWindow};

/// Tile ids, as the home page names them.
pub const TILES: [&str; 8] = [
    "apply",
    "query",
    "queue",
    "certificate",
    "pay",
    "rate",
    "ask",
    "guide",
];

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let (weak, shared) = (ui.as_weak(), Arc::clone(shared));
    ui.global::<HomeAdapter>().on_tile_clicked(move |id| {
        let Some(ui) = weak.upgrade() else { return };
        tracing::info!(tile = %id, "tile touched");
        match id.as_str() {
            "query" => query::start(&ui, &shared),
            // The page pauses the tile already; the clock may have gone
            // off since it last looked (R8).
            "apply" if !shared.clock_ok() => {
                ui.global::<AppAdapter>()
                    .invoke_notify("clock-off-apply".into());
            }
            "apply" => guide::start(&ui, &shared, true),
            "guide" => guide::start(&ui, &shared, false),
            _ => {}
        }
    });
}
