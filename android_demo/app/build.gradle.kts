plugins {
    alias(libs.plugins.android.application)
}

// The exported models and their I/O contracts come from the repository's tflite/ folder. They
// are copied into a generated assets folder at build time, never committed into the app.
// Every .tflite with a .json contract of the same name is bundled (the Benchmark action times
// each of them); Enhance uses the int8 one when there is one.
val modelDir = rootProject.file("../tflite")
val modelAssets = layout.buildDirectory.dir("generated/imse_model_assets").get().asFile
val modelCommand = "make android-model"

// A plain task (a Copy task with nothing to copy would be skipped as NO-SOURCE, silently).
val checkModel by tasks.registering {
    description = "Fails, naming the command that makes one, when ../tflite has no model."
    val dir = modelDir // locals, so that the action does not capture the build script
    val command = modelCommand
    doLast {
        val models = dir.listFiles { f ->
            f.name.endsWith(".tflite") && File(f.parentFile, f.nameWithoutExtension + ".json").isFile
        }.orEmpty()
        if (models.isEmpty()) {
            throw GradleException(
                "No exported model in $dir (a .tflite with its .json contract). " +
                    "Run this once from the repository root, then build again:\n    $command"
            )
        }
    }
}

val copyModelAssets by tasks.registering(Copy::class) {
    description = "Copies ../tflite/*.tflite and their .json contracts into the app's assets."
    dependsOn(checkModel)
    from(modelDir) {
        include("*.tflite", "*.json")
        exclude("*.validation.json")
    }
    into(modelAssets)
}

android {
    namespace = "ai.imse.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "ai.imse.demo"
        minSdk = 24 // LiteRT 2.x AARs declare 24
        targetSdk = 35 // Android 15: edge-to-edge is enforced; MainActivity applies the insets
        versionCode = 1
        versionName = "0.2.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_1_8
        targetCompatibility = JavaVersion.VERSION_1_8
    }

    // Memory-mapping a model needs it stored uncompressed in the APK.
    androidResources {
        noCompress += "tflite"
    }

    sourceSets {
        getByName("main") {
            assets.srcDir(modelAssets)
        }
    }
}

tasks.named("preBuild") {
    dependsOn(copyModelAssets)
}

dependencies {
    implementation(project(":core"))
    // LiteRT, through the org.tensorflow.lite.Interpreter API (version in the catalog).
    implementation(libs.litert)
}
