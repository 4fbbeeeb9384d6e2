// Plain Java library: the whole signal path, no Android and no TFLite imports.
// `./gradlew :core:test` runs the same JUnit 4 tests as ../run_jvm_tests.sh.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}

tasks.withType<JavaCompile>().configureEach {
    options.encoding = "UTF-8"
}

dependencies {
    testImplementation(libs.junit)
}
