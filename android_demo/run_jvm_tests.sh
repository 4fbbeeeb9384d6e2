#!/bin/bash
# What `make test` checks of the Android demo, without Gradle or the Android SDK:
#   1. the fixtures are fresh: tools/fixture_inputs.py --check (the sources that made them are
#      unchanged; otherwise it names the command that regenerates them);
#   2. android_demo's plain-Java :core and its JUnit 4 tests, compiled with javac and run with
#      JUnitCore (needs a JDK and Debian's junit4, installed here if missing; CI runs as root);
#   3. tools/check_android_compile.sh: :app compiled against the real LiteRT Java API from
#      ../shared/litert-java and API-23 android.jar (it prints SKIP with a reason when those
#      are absent).
# No network except apt. Last line: "android: N passed, M failed[, K skipped]", where the
# freshness check and the compile check count as one each and every JUnit test as one.
set -euo pipefail
cd "$(dirname "$0")"

extra_pass=0
extra_fail=0
extra_skip=0
if command -v python3 >/dev/null 2>&1; then
    if python3 tools/fixture_inputs.py --check; then
        extra_pass=$((extra_pass + 1))
    else
        extra_fail=$((extra_fail + 1))
    fi
else
    echo "SKIP fixture freshness: no python3"
    extra_skip=$((extra_skip + 1))
fi

summary() { # passed failed
    local line="android: $1 passed, $2 failed"
    [ "$extra_skip" -eq 0 ] || line="$line, $extra_skip skipped"
    echo "$line"
}

compile_check() {
    local out
    out=$(bash tools/check_android_compile.sh 2>&1) && rc=0 || rc=$?
    echo "$out"
    if [ "$rc" -ne 0 ]; then
        extra_fail=$((extra_fail + 1))
    elif echo "$out" | tail -1 | grep -q '^SKIP'; then
        extra_skip=$((extra_skip + 1))
    else
        extra_pass=$((extra_pass + 1))
    fi
}

if ! command -v javac >/dev/null 2>&1; then
    echo "SKIP android JVM tests and compile check: no JDK (javac); install openjdk-17-jdk-headless"
    extra_skip=$((extra_skip + 2))
    summary "$extra_pass" "$extra_fail"
    [ "$extra_fail" -eq 0 ]
    exit
fi
JUNIT_JAR=/usr/share/java/junit4.jar
HAMCREST_JAR=/usr/share/java/hamcrest-core.jar
if [ ! -f "$JUNIT_JAR" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "SKIP android JVM tests: $JUNIT_JAR missing; install Debian's junit4 (as root: apt-get install junit4)"
        extra_skip=$((extra_skip + 1))
        compile_check
        summary "$extra_pass" "$extra_fail"
        [ "$extra_fail" -eq 0 ]
        exit
    fi
    echo "installing junit4 (Debian package)"
    if ! apt-get install -y -qq --no-install-recommends junit4 >/dev/null 2>&1; then
        if ! { apt-get update -qq >/dev/null 2>&1 \
                && apt-get install -y -qq --no-install-recommends junit4 >/dev/null 2>&1; }; then
            echo "SKIP android JVM tests: could not install Debian's junit4 with apt-get"
            extra_skip=$((extra_skip + 1))
            compile_check
            summary "$extra_pass" "$extra_fail"
            [ "$extra_fail" -eq 0 ]
            exit
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
    compile_check
    summary "$extra_pass" "$((extra_fail + 1))"
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
    fail=1
fi
compile_check
summary "$((run - fail + extra_pass))" "$((fail + extra_fail))"
if [ "$status" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$extra_fail" -ne 0 ]; then
    exit 1
fi
