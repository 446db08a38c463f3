//! A private OBS configuration that starts without any dialog: no first-run
//! wizard, no "already running" or exit confirmations, obs-websocket enabled,
//! one profile with a simple x264 output. OBS 29's layout; 30+ migrate it on
//! first start (see the project's OBS notes).

use std::path::Path;

/// The one profile of a fresh configuration.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// x264 preset (`ultrafast`, `veryfast`, ...).
    pub preset: String,
    pub video_kbps: u32,
    pub audio_kbps: u32,
}

impl Profile {
    /// 640x360, x264 ultrafast at 600 kbps: light enough for many runs on a small machine.
    pub fn small(name: &str) -> Profile {
        Profile {
            name: name.to_string(),
            width: 640,
            height: 360,
            preset: "ultrafast".into(),
            video_kbps: 600,
            audio_kbps: 96,
        }
    }
}

/// Writes `global.ini` and the profile's `basic.ini` into `obs_dir`
/// (`$XDG_CONFIG_HOME/obs-studio`). obs-websocket listens on `websocket_port`
/// without a password unless OBS is started with `--websocket_password`.
pub fn write(obs_dir: &Path, profile: &Profile, websocket_port: u16) -> std::io::Result<()> {
    let profile_dir = obs_dir.join("basic/profiles").join(&profile.name);
    std::fs::create_dir_all(&profile_dir)?;
    std::fs::create_dir_all(obs_dir.join("basic/scenes"))?;
    std::fs::write(obs_dir.join("global.ini"), global_ini(&profile.name, websocket_port))?;
    std::fs::write(profile_dir.join("basic.ini"), profile_ini(profile))
}

/// Whether `obs_dir` already holds a configuration (from an earlier run).
pub fn exists(obs_dir: &Path) -> bool {
    obs_dir.join("global.ini").is_file()
}

fn global_ini(profile: &str, port: u16) -> String {
    format!(
        "[General]\nPre19Defaults=false\nPre21Defaults=false\nPre23Defaults=false\nPre24.1Defaults=false\n\
FirstRun=true\nLastVersion=486539266\nEnableAutoUpdates=false\nConfirmOnExit=false\n\n\
[Basic]\nProfile={profile}\nProfileDir={profile}\nSceneCollection=Untitled\nSceneCollectionFile=Untitled\n\n\
[BasicWindow]\nSysTrayEnabled=false\nWarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n\
WarnBeforeStoppingRecord=false\n\n\
[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={port}\nAlertsEnabled=false\n\
AuthRequired=false\nServerPassword=\n"
    )
}

fn profile_ini(p: &Profile) -> String {
    format!(
        "[General]\nName={name}\n\n\
[Video]\nBaseCX={w}\nBaseCY={h}\nOutputCX={w}\nOutputCY={h}\nFPSType=0\nFPSCommon=30\n\n\
[Output]\nMode=Simple\n\n\
[SimpleOutput]\nStreamEncoder=x264\nPreset={preset}\nVBitrate={v}\nABitrate={a}\nUseAdvanced=false\n\n\
[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n",
        name = p.name,
        w = p.width,
        h = p.height,
        preset = p.preset,
        v = p.video_kbps,
        a = p.audio_kbps,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_profile_that_global_ini_names() {
        let dir = std::env::temp_dir().join(format!("obs-rig-config-{}", std::process::id()));
        let obs = dir.join("obs-studio");
        assert!(!exists(&obs));
        write(&obs, &Profile::small("Velora Demo"), 4466).unwrap();
        assert!(exists(&obs));
        let global = std::fs::read_to_string(obs.join("global.ini")).unwrap();
        assert!(global.contains("ProfileDir=Velora Demo\n"));
        assert!(global.contains("ServerPort=4466\n"));
        let basic = std::fs::read_to_string(obs.join("basic/profiles/Velora Demo/basic.ini")).unwrap();
        assert!(basic.contains("BaseCX=640\n") && basic.contains("Preset=ultrafast\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
