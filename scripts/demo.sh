#!/usr/bin/env bash
# The demo: builds obs-velora, starts the Velora sandbox (with a real
# nginx-rtmp ingest) and OBS Studio with the plugin in a private OBS
# configuration (your own OBS settings are not touched).
#
#   bash scripts/demo.sh            # OBS on your desktop
#   VELORA_DEMO_HEADLESS=1 bash scripts/demo.sh   # under Xvfb, screenshot to target/artifacts/demo.png
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=${VELORA_DEMO_DIR:-$ROOT/target/demo}
PORT=${VELORA_SANDBOX_PORT:-8787}
RTMP_PORT=${VELORA_RTMP_PORT:-1935}

bash scripts/deps.sh
cargo build --release --workspace
bash scripts/build-dock.sh both "$ROOT/target" >/dev/null

# A private OBS configuration with the plugin installed per user.
CFG=$DEMO/config/obs-studio
PLUG=$CFG/plugins/velora
mkdir -p "$CFG/basic/profiles/Velora Demo" "$CFG/basic/scenes" "$PLUG/bin/64bit" "$PLUG/data"
cp target/release/libvelora.so "$PLUG/bin/64bit/velora.so"
cp target/dock-qt5/velora-dock-qt5.so target/dock-qt6/velora-dock-qt6.so "$PLUG/bin/64bit/"
cp -r data/. "$PLUG/data/"
if [ ! -f "$CFG/global.ini" ]; then
  cat > "$CFG/global.ini" <<INI
[General]
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false
FirstRun=true
LastVersion=486539266
EnableAutoUpdates=false
ConfirmOnExit=false

[Basic]
Profile=Velora Demo
ProfileDir=Velora Demo
SceneCollection=Untitled
SceneCollectionFile=Untitled

[BasicWindow]
SysTrayEnabled=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=4455
AlertsEnabled=false
AuthRequired=false
ServerPassword=
INI
  cat > "$CFG/basic/profiles/Velora Demo/basic.ini" <<INI
[General]
Name=Velora Demo

[Video]
BaseCX=1280
BaseCY=720
OutputCX=1280
OutputCY=720
FPSType=0
FPSCommon=30

[Output]
Mode=Simple

[SimpleOutput]
StreamEncoder=x264
Preset=veryfast
VBitrate=2500
ABitrate=160
INI
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# The Velora sandbox, supervising nginx-rtmp; state survives restarts.
target/release/velora-sandbox --port "$PORT" --nginx --rtmp-port "$RTMP_PORT" \
  --state "$DEMO/sandbox-state.json" > "$DEMO/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on" "$DEMO/sandbox.log" && break; sleep 0.2; done
grep "listening on\|rtmp" "$DEMO/sandbox.log" || { cat "$DEMO/sandbox.log"; exit 1; }

if [ -n "${VELORA_DEMO_HEADLESS:-}" ] || [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=:${VELORA_DEMO_DISPLAY:-97}
  Xvfb "$DISPLAY" -screen 0 1600x900x24 -nolisten tcp >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
  HEADLESS=1
fi

echo "Starting OBS with the Velora plugin (sandbox at http://127.0.0.1:$PORT)."
echo "In OBS: open the Velora dock (Docks › Velora or Tools › Velora) and click 'Log in with Velora'."
VELORA_API_URL="http://127.0.0.1:$PORT" HOME="$DEMO" XDG_CONFIG_HOME="$DEMO/config" \
  obs --multi --disable-missing-files-check > "$DEMO/obs.stdout" 2>&1 &
OBS_PID=$!
pids+=($OBS_PID)

if [ -n "${HEADLESS:-}" ]; then
  sleep "${VELORA_DEMO_WAIT:-10}"
  mkdir -p target/artifacts
  import -window root target/artifacts/demo.png && echo "Screenshot: target/artifacts/demo.png"
  [ -n "${VELORA_DEMO_KEEP:-}" ] && wait "$OBS_PID" || kill -INT "$OBS_PID"
  wait "$OBS_PID" || true
else
  wait "$OBS_PID" || true
fi
