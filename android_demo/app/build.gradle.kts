plugins {
    id("com.android.application")
}

// The exported model and its I/O contract come from the repository's tflite/ folder
// (`imse-export` / `make export` write them there). They are copied into a generated
// assets folder at build time, never committed into the app.
val modelDir = rootProject.file("../tflite")
val modelAssets = layout.buildDirectory.dir("generated/imse_model_assets").get().asFile

val copyModelAssets by tasks.registering(Copy::class) {
    description = "Copies ../tflite/*.tflite and *.json into the app's assets."
    from(modelDir) {
        include("*.tflite", "*.json")
    }
    into(modelAssets)
    doLast {
        val models = modelDir.listFiles { f -> f.name.endsWith(".tflite") }.orEmpty()
        if (models.isEmpty()) {
            logger.warn("No .tflite in $modelDir: the app will build but report a missing model.")
        }
    }
}

android {
    namespace = "ai.imse.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "ai.imse.demo"
        minSdk = 24 // LiteRT 2.x AARs declare 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
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
    // LiteRT (formerly TensorFlow Lite); the org.tensorflow.lite.Interpreter API.
    // Keep it >= the ai-edge-litert version that converted the model (see the contract's
    // "versions"), or newer op versions may be missing at run time.
    implementation("com.google.ai.edge.litert:litert:2.3.0")
}
