#!/bin/bash
# Compile check of the Android side, without the Android SDK or Gradle (run by
# ../run_jvm_tests.sh, so by `make test`):
#   1. the real LiteRT Java API sources from ../shared/litert-java (google-ai-edge/LiteRT's
#      tflite/java and the nnapi/gpu delegates, unchanged) are compiled with the annotation-only
#      stand-ins in tools/annotations;
#   2. aapt2 compiles and links the resources and manifest against Debian's API-23 android.jar
#      (the newest android.jar any reachable registry has), generating R.java;
#   3. :core and :app are compiled with -Xlint:all -Werror against that android.jar, :app also
#      against the LiteRT classes of step 1. No lambdas (javac cannot compile them against
#      API 23's android.jar) and nothing newer than API 23, which is below minSdk 24.
# It builds no APK. Prints one "OK: ..." or "FAIL: ..." line at the end, or "SKIP: <reason>"
# (exit 0) when ../shared/litert-java, javac, android.jar or aapt2 is not available.
# Usage: bash android_demo/tools/check_android_compile.sh   (ANDROID_JAR=... to reuse a jar,
# IMSE_SHARED_DIR=... for a shared/ folder elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(cd .. && pwd)
SHARED=${IMSE_SHARED_DIR:-$ROOT/../shared}
LITERT=$SHARED/litert-java
if [ ! -f "$LITERT/src/org/tensorflow/lite/Interpreter.java" ]; then
    echo "SKIP: the real LiteRT Java API sources are not at $LITERT/src (../shared/litert-java)"
    exit 0
fi
if ! command -v javac >/dev/null 2>&1; then
    echo "SKIP: no JDK (javac) on this machine; install openjdk-17-jdk-headless"
    exit 0
fi
if [ -z "${ANDROID_JAR:-}" ]; then
    ANDROID_JAR=$(bash tools/fetch_android_jar.sh 2>/dev/null | sed -n 's/^ANDROID_JAR=//p' || true)
fi
if [ -z "${ANDROID_JAR:-}" ] || [ ! -f "$ANDROID_JAR" ]; then
    echo "SKIP: Debian's API-23 android.jar (libandroid-23-java) could not be fetched"
    exit 0
fi
if ! command -v aapt2 >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    apt-get install -y -qq --no-install-recommends aapt >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
             && apt-get install -y -qq --no-install-recommends aapt >/dev/null 2>&1; } || true
fi
if ! command -v aapt2 >/dev/null 2>&1; then
    echo "SKIP: aapt2 missing; install Debian's aapt (as root: apt-get install aapt)"
    exit 0
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/imse-android-compile.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/gen" "$W/litert" "$W/core" "$W/app"
fail() { echo "FAIL: $*"; exit 1; }

# 1. The real LiteRT API. JDK --release 8 rather than -bootclasspath android.jar: LiteRT's
#    @NonNull is a Java 8 type annotation (TYPE_USE), which API 23's java.lang lacks; LiteRT's
#    Java code imports nothing from android.* (only androidx.annotation.Nullable).
javac --release 8 -nowarn -Xlint:none -encoding UTF-8 -d "$W/litert" \
    $(find tools/annotations "$LITERT/src" -name '*.java' | sort) 2>&1 | grep -v '^Note: ' \
    || true
[ -f "$W/litert/org/tensorflow/lite/Interpreter.class" ] \
    || fail "the LiteRT sources in $LITERT did not compile"

# 2. Resources and manifest. AGP 8 takes the package from `namespace`; aapt2 wants it here.
aapt2 compile --dir app/src/main/res -o "$W/res.zip"
sed 's|<manifest |<manifest package="ai.imse.demo" |' app/src/main/AndroidManifest.xml > "$W/AndroidManifest.xml"
aapt2 link -o "$W/app.apk" -I "$ANDROID_JAR" --manifest "$W/AndroidManifest.xml" \
    --java "$W/gen" --min-sdk-version 24 --target-sdk-version 35 \
    "$W/res.zip" 2>&1 | grep -v "is compressed" || true
[ -f "$W/gen/ai/imse/demo/R.java" ] || fail "aapt2 produced no R.java"

# 3. :core and :app against android.jar (:app also against the real LiteRT classes).
JOPTS="-source 8 -target 8 -Xlint:all -Xlint:-options -Werror -encoding UTF-8 -bootclasspath $ANDROID_JAR"
javac $JOPTS -d "$W/core" $(find core/src/main/java -name '*.java' | sort) \
    || fail ":core does not compile against API-23 android.jar"
javac $JOPTS -cp "$W/core:$W/litert" -d "$W/app" \
    $(find app/src/main/java "$W/gen" -name '*.java' | sort) \
    || fail ":app does not compile against android.jar and the real LiteRT API"

# Only TfliteRunner may import LiteRT; :core imports neither Android nor LiteRT.
users=$(grep -lE '^import org\.tensorflow' $(find app/src/main/java core/src/main/java -name '*.java') \
    | xargs -n1 basename | sort | tr '\n' ' ')
[ "$users" = "TfliteRunner.java " ] || fail "LiteRT imported outside TfliteRunner: $users"
if grep -rlE '^import (android|org\.tensorflow)\.' core/src/main/java >/dev/null; then
    fail ":core imports android.* or org.tensorflow.*"
fi
commit=$(grep -oE '[0-9a-f]{40}' "$LITERT/SOURCE" 2>/dev/null | head -1 || true)
echo "OK: resources, manifest, :core and :app compile against API-23 android.jar and the real LiteRT API (google-ai-edge/LiteRT ${commit:-at an unrecorded commit})"
