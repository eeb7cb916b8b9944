package dev.kiln.builder.runtime;

import java.util.HashMap;
import java.util.Map;

/** The official images the tests boot and inspect, each built (or found in the cache) once per JVM. */
final class OfficialImages {

    private static final Map<String, BuiltRuntime> BUILT = new HashMap<>();

    private OfficialImages() {
    }

    static synchronized BuiltRuntime get(String name) throws Exception {
        BuiltRuntime rt = BUILT.get(name);
        if (rt == null) {
            rt = new RuntimeBuilder(TestHome.get(), TestHome.printing(name)).build(RuntimeSpecs.official(name));
            BUILT.put(name, rt);
        }
        return rt;
    }
}
