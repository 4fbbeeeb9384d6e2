#!/bin/bash
# Download Debian's API-23 android.jar (package libandroid-23-java, in bullseye and sid but not
# bookworm) into a private folder, without touching the system's apt state. Prints
# ANDROID_JAR=<path>. Optional: only tools/check_android_compile.sh uses it.
set -euo pipefail
D=${1:-/tmp/imse-android-debs}
JAR="$D/root/usr/share/java/com.android.android-23.jar"
if [ -f "$JAR" ]; then echo "ANDROID_JAR=$JAR"; exit 0; fi
URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$URI" ] || URI=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
mkdir -p "$D/lists/partial" "$D/cache/archives/partial" "$D/root"
{ echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI bullseye main"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI sid main"; } > "$D/sources.list"
O="-o Dir::Etc::SourceList=$D/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$D/lists -o Dir::Cache=$D/cache"
apt-get $O update -qq >/dev/null 2>&1 || true
(cd "$D" && apt-get $O download -qq libandroid-23-java >/dev/null 2>&1)
for f in "$D"/*.deb; do dpkg -x "$f" "$D/root"; done
[ -f "$JAR" ] && echo "ANDROID_JAR=$JAR"
