package ai.imse.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class ContractTest {

    @Test
    public void readsTheExportedContract() throws Exception {
        ModelContract c = ModelContract.parse(Fixtures.text("replay/contract.json"));
        assertEquals(16000, c.sampleRate);
        assertEquals(510, c.nFft);
        assertEquals(100, c.hopLength);
        assertEquals(0.3, c.compressFactor, 0);
        assertEquals(30700, c.segmentSamples);
        assertEquals(308, c.segmentFrames);
        assertEquals(256, c.numFreqs);
        assertEquals("serving_default", c.signature);
        for (String n : ModelContract.INPUTS) {
            TensorSpec t = c.input(n);
            assertEquals(TensorSpec.DType.INT8, t.dtype);
            assertTrue(t.scale > 0);
            assertEquals(308 * 256, t.numBytes());
        }
        for (String n : ModelContract.OUTPUTS) {
            assertEquals(TensorSpec.DType.INT8, c.output(n).dtype);
        }
    }

    @Test
    public void readsAFloatIoContract() throws Exception {
        String json = Fixtures.text("replay/contract.json")
                .replace("\"dtype\": \"int8\"", "\"dtype\": \"float32\"");
        json = json.replaceAll("\"quantization\": \\{[^}]*\\}", "\"quantization\": null");
        ModelContract c = ModelContract.parse(json);
        assertEquals(TensorSpec.DType.FLOAT32, c.input("mag_c").dtype);
        assertEquals(4 * 308 * 256, c.output("mask").numBytes());
    }

    @Test
    public void rejectsBadContracts() throws Exception {
        String good = Fixtures.text("replay/contract.json");
        String[] bad = {
            "{}",
            "[1, 2]",
            good.replace("imse-tflite-io-contract", "something-else"),
            good.replace("\"n_fft\": 510", "\"n_fft\": 512"),      // inconsistent num_freqs
            good.replace("\"center\": true", "\"center\": false"),
            good.replace("\"name\": \"phase_i\"", "\"name\": \"other\""),
            good.replace("\"zero_point\"", "\"zp\""),
            good.replace("308", "300"),
            good.substring(0, good.length() / 2),
        };
        for (String s : bad) {
            try {
                ModelContract.parse(s);
                fail("accepted a bad contract");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage() != null);
            }
        }
    }
}
