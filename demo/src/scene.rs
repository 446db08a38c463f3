//! The demo's scene: a coloured background and a caption, so the stream and
//! the screenshots show a picture rather than a black canvas. Written once,
//! into a fresh configuration; OBS fills in every field left out.

use serde_json::{json, Value};
use std::path::Path;

/// A scene item at (`x`, `y`): its top left corner, or its centre when `centred`.
fn item(id: u64, name: &str, x: f64, y: f64, centred: bool) -> Value {
    // OBS_ALIGN_LEFT | OBS_ALIGN_TOP = 5; OBS_ALIGN_CENTER = 0.
    let align = if centred { 0 } else { 5 };
    json!({
        "name": name, "id": id, "visible": true, "locked": false,
        "pos": {"x": x, "y": y}, "scale": {"x": 1.0, "y": 1.0}, "rot": 0.0,
        "align": align, "bounds_type": 0, "bounds": {"x": 0.0, "y": 0.0}
    })
}

/// `basic/scenes/<collection>.json` for a `width`x`height` canvas.
pub fn collection(name: &str, width: u32, height: u32) -> Value {
    json!({
        "name": name,
        "current_scene": "Scene",
        "current_program_scene": "Scene",
        "scene_order": [{"name": "Scene"}],
        "sources": [
            {
                "id": "scene", "versioned_id": "scene", "name": "Scene",
                "settings": {
                    "id_counter": 2,
                    "items": [
                        item(1, "Background", 0.0, 0.0, false),
                        item(2, "Caption", f64::from(width) / 2.0, f64::from(height) / 2.0, true)
                    ]
                }
            },
            {
                "id": "color_source", "versioned_id": "color_source_v3", "name": "Background",
                // ABGR: a deep blue.
                "settings": {"color": 0xFF5A2E1Eu32, "width": width, "height": height}
            },
            {
                "id": "text_ft2_source", "versioned_id": "text_ft2_source_v2", "name": "Caption",
                "settings": {
                    "text": "Live on Velora, from OBS",
                    "font": {"face": "DejaVu Sans", "style": "Bold", "size": 64, "flags": 1},
                    "color1": 0xFFFFFFFFu32, "color2": 0xFFFFFFFFu32
                }
            }
        ]
    })
}

/// Writes the collection unless the configuration already has one.
pub fn write_once(obs_dir: &Path, name: &str, width: u32, height: u32) -> std::io::Result<()> {
    let path = obs_dir.join("basic/scenes").join(format!("{name}.json"));
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("a parent"))?;
    std::fs::write(path, collection(name, width, height).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scene_holds_both_sources() {
        let c = collection("Untitled", 1280, 720);
        let items = &c["sources"][0]["settings"]["items"];
        assert_eq!(items[0]["name"], "Background");
        assert_eq!(items[1]["name"], "Caption");
        assert_eq!(c["sources"][1]["settings"]["width"], 1280);
    }
}
