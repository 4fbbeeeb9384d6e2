#!/bin/bash
# Optional check that the Android side compiles, without the Android SDK or Gradle:
#   aapt2 compiles and links the resources and manifest against Debian's API-23 android.jar
#   (generating R.java), then javac compiles :core and :app against android.jar, with a
#   compile-only stub of the LiteRT API (tools/stubs, never packaged). Catches API misuse and
#   resource/manifest errors; it builds no APK. Prints SKIP and exits 0 when android.jar or
#   aapt2 is unavailable.
# Usage: bash android_demo/tools/check_android_compile.sh   (ANDROID_JAR=... to reuse a jar)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ANDROID_JAR:-}" ]; then
    ANDROID_JAR=$(bash tools/fetch_android_jar.sh 2>/dev/null | sed -n 's/^ANDROID_JAR=//p' || true)
fi
if ! command -v aapt2 >/dev/null; then
    apt-get install -y -qq --no-install-recommends aapt >/dev/null 2>&1 || true
fi
if [ -z "${ANDROID_JAR:-}" ] || [ ! -f "$ANDROID_JAR" ] || ! command -v aapt2 >/dev/null; then
    echo "SKIP: android.jar or aapt2 not available"
    exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/imse-android-compile.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/gen" "$W/core" "$W/stub" "$W/app"
aapt2 compile --dir app/src/main/res -o "$W/res.zip"
# AGP 8 takes the package from `namespace`; Debian's older aapt2 wants it in the manifest.
sed 's|<manifest |<manifest package="ai.imse.demo" |' app/src/main/AndroidManifest.xml > "$W/AndroidManifest.xml"
aapt2 link -o "$W/app.apk" -I "$ANDROID_JAR" --manifest "$W/AndroidManifest.xml" \
    --java "$W/gen" --min-sdk-version 23 --target-sdk-version 23 \
    "$W/res.zip" 2>&1 | grep -v "is compressed" || true
[ -f "$W/gen/ai/imse/demo/R.java" ] || { echo "FAIL: aapt2 produced no R.java"; exit 1; }
# No lambdas and nothing beyond API 23 (java.util.function etc.): compile against android.jar.
JOPTS="-source 8 -target 8 -Xlint:all -Xlint:-options -Werror -encoding UTF-8 -bootclasspath $ANDROID_JAR"
javac $JOPTS -d "$W/core" $(find core/src/main/java -name '*.java')
javac $JOPTS -d "$W/stub" $(find tools/stubs -name '*.java')
javac $JOPTS -Xlint:-deprecation -cp "$W/core:$W/stub" -d "$W/app" \
    $(find app/src/main/java "$W/gen" -name '*.java')
# The stub must not leak into the app, and only TfliteRunner may import LiteRT.
users=$(grep -lE '^import org\.tensorflow' $(find app/src/main/java core/src/main/java -name '*.java') | xargs -n1 basename)
if [ "$users" != "TfliteRunner.java" ]; then
    echo "FAIL: LiteRT imported outside TfliteRunner: $users"; exit 1
fi
if grep -rlE '^import (android|org\.tensorflow)\.' core/src/main/java >/dev/null; then
    echo "FAIL: :core imports android.* or org.tensorflow.*"; exit 1
fi
echo "OK: resources, manifest, :core and :app compile against API-23 android.jar (LiteRT stubbed)"
