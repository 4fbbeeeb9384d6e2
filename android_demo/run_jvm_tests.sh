#!/bin/bash
# Compile android_demo's plain-Java :core and its JUnit 4 tests with javac and run them with
# JUnitCore. Needs a JDK (javac 11+) and Debian's junit4 (installed here if missing; CI runs as
# root). No Gradle, no Android SDK, no network except apt. Last line: "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v javac >/dev/null 2>&1; then
    echo "SKIP android JVM tests: no JDK (javac) on this machine; install openjdk-17-jdk-headless"
    exit 0
fi
JUNIT_JAR=/usr/share/java/junit4.jar
HAMCREST_JAR=/usr/share/java/hamcrest-core.jar
if [ ! -f "$JUNIT_JAR" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "SKIP android JVM tests: $JUNIT_JAR missing; install Debian's junit4 (as root: apt-get install junit4)"
        exit 0
    fi
    echo "installing junit4 (Debian package)"
    if ! apt-get install -y -qq --no-install-recommends junit4 >/dev/null 2>&1; then
        if ! { apt-get update -qq >/dev/null 2>&1 \
                && apt-get install -y -qq --no-install-recommends junit4 >/dev/null 2>&1; }; then
            echo "SKIP android JVM tests: could not install Debian's junit4 with apt-get"
            exit 0
        fi
    fi
fi
CP_JUNIT="$JUNIT_JAR:$HAMCREST_JAR"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/imse-android-jvm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/main" "$WORK/test"

# --release 8: the core must stay Java 8 (no java.util.function etc. beyond Android's API 24).
if ! javac --release 8 -Xlint:all -Werror -encoding UTF-8 -d "$WORK/main" \
        $(find core/src/main/java -name '*.java' | sort) \
    || ! javac --release 8 -Xlint:all -Werror -encoding UTF-8 -cp "$WORK/main:$CP_JUNIT" \
        -d "$WORK/test" $(find core/src/test/java -name '*.java' | sort); then
    echo "compilation failed"
    echo "0 passed, 1 failed"
    exit 1
fi
cp -r core/src/test/resources/. "$WORK/test/"

classes=$(cd "$WORK/test" && find . -name '*Test.class' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
status=0
java -Xss4m -cp "$WORK/main:$WORK/test:$CP_JUNIT" org.junit.runner.JUnitCore $classes \
    > "$WORK/junit.txt" 2>&1 || status=$?
cat "$WORK/junit.txt"

run=$(grep -oE '^OK \([0-9]+ tests?\)|^Tests run: [0-9]+' "$WORK/junit.txt" | grep -oE '[0-9]+' | head -1 || true)
fail=$(grep -oE 'Failures: [0-9]+' "$WORK/junit.txt" | grep -oE '[0-9]+' | head -1 || true)
run=${run:-0}
fail=${fail:-0}
if [ "$run" -eq 0 ]; then
    echo "no tests ran"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$((run - fail)) passed, $fail failed"
if [ "$status" -ne 0 ] || [ "$fail" -ne 0 ]; then
    exit 1
fi
