package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class BundledModelsTest {

    @Test
    public void onlyModelsWithAContract() {
        String[] files = {"imse_int8.json", "imse_float32.tflite", "imse_int8.tflite",
            "orphan.tflite", "imse_float32.json", "imse_int8.validation.json", "images", "x.json"};
        List<String> m = BundledModels.list(files);
        assertEquals(Arrays.asList("imse_float32.tflite", "imse_int8.tflite"), m);
        assertEquals("imse_int8.tflite", BundledModels.preferred(m));
    }

    @Test
    public void preferenceWithoutInt8AndEmpty() {
        assertEquals("a.tflite", BundledModels.preferred(Arrays.asList("a.tflite", "b.tflite")));
        assertNull(BundledModels.preferred(BundledModels.list(new String[0])));
        assertTrue(BundledModels.list(null).isEmpty());
        assertEquals("imse_int8", BundledModels.stem("imse_int8.tflite"));
        assertEquals("noext", BundledModels.stem("noext"));
    }
}
