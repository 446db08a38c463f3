#!/usr/bin/env python3
# obs-velora: SPDX-License-Identifier: GPL-2.0-or-later
"""Writes cargo-sources.json, the flatpak-builder sources that let the
extension build the Rust core offline (flatpak-builder has no network while
building): every crates.io package of Cargo.lock as an archive with the
checksum Cargo.lock records, its .cargo-checksum.json, and a cargo config
that replaces crates.io with the vendored directory.

    python3 packaging/flatpak/cargo-sources.py            # writes cargo-sources.json
    python3 packaging/flatpak/cargo-sources.py --stdout   # prints it

Generated, not committed: run it before flatpak-builder (and commit it in the
Flathub repository of the extension, next to the manifest), so it always
matches the Cargo.lock of the release being built.

The layout is the one flatpak-builder-tools' flatpak-cargo-generator uses
(CARGO_HOME=/run/build/velora/cargo, crates in cargo/vendor/NAME-VERSION).
Only crates.io packages exist in this workspace's lock file; any other
source is refused.
"""
import json
import pathlib
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
LOCK = HERE.parent.parent / "Cargo.lock"
OUT = HERE / "cargo-sources.json"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def sources(lock_text):
    lock = tomllib.loads(lock_text)
    out = []
    for pkg in sorted(lock["package"], key=lambda p: (p["name"], p["version"])):
        src = pkg.get("source")
        if src is None:
            continue  # a workspace member
        if src != CRATES_IO:
            raise SystemExit(f"cargo-sources: {pkg['name']} comes from {src}: only crates.io is supported")
        name, version, sha = pkg["name"], pkg["version"], pkg["checksum"]
        dest = f"cargo/vendor/{name}-{version}"
        out.append({
            "type": "archive",
            "archive-type": "tar-gzip",
            "url": f"https://static.crates.io/crates/{name}/{name}-{version}.crate",
            "sha256": sha,
            "dest": dest,
        })
        out.append({
            "type": "inline",
            "contents": json.dumps({"package": sha, "files": {}}),
            "dest": dest,
            "dest-filename": ".cargo-checksum.json",
        })
    out.append({
        "type": "inline",
        "contents": '[source.vendored-sources]\ndirectory = "cargo/vendor"\n\n'
                    '[source.crates-io]\nreplace-with = "vendored-sources"\n',
        "dest": "cargo",
        "dest-filename": "config",
    })
    return json.dumps(out, indent=2) + "\n"


def main():
    text = sources(LOCK.read_text())
    if sys.argv[1:] == ["--stdout"]:
        sys.stdout.write(text)
        return
    if sys.argv[1:]:
        raise SystemExit(__doc__)
    OUT.write_text(text)
    print(f"cargo-sources: wrote {OUT}")


main()
