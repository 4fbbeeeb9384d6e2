package ai.imse.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Which of the app's asset files are models: a {@code .tflite} with a {@code .json} contract. */
public final class BundledModels {

    private BundledModels() {}

    /** The {@code .tflite} names in {@code files} that have a contract beside them, sorted. */
    public static List<String> list(String[] files) {
        List<String> models = new ArrayList<String>();
        if (files == null) {
            return models;
        }
        Set<String> names = new HashSet<String>(Arrays.asList(files));
        for (String f : files) {
            if (f.endsWith(".tflite") && names.contains(stem(f) + ".json")) {
                models.add(f);
            }
        }
        java.util.Collections.sort(models);
        return models;
    }

    /** The model Enhance uses: the first whose name contains "int8", else the first; or null. */
    public static String preferred(List<String> models) {
        for (String m : models) {
            if (m.contains("int8")) {
                return m;
            }
        }
        return models.isEmpty() ? null : models.get(0);
    }

    /** {@code "imse_int8.tflite"} becomes {@code "imse_int8"}. */
    public static String stem(String file) {
        int dot = file.lastIndexOf('.');
        return dot < 0 ? file : file.substring(0, dot);
    }
}
