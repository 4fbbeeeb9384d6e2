// Top-level build file. Versions are in gradle/libs.versions.toml; Gradle in
// gradle/wrapper/gradle-wrapper.properties (8.13, which AGP 8.7 accepts: it needs >= 8.9).
plugins {
    alias(libs.plugins.android.application) apply false
}
