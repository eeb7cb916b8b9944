package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** aleph volumes carry no type tag: the kind follows from the fields present, as aleph reads them. */
class VolumeKindsTest {

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', textBlock = """
            {"mount": "/v", "ref": "5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51"} | ImmutableVolume
            {"mount": "/v", "use_latest": true}                                                      | ImmutableVolume
            {"mount": "/v"}                                                                          | ImmutableVolume
            {"ephemeral": true, "mount": "/v", "size_mib": 5}                                        | EphemeralVolume
            {"mount": "/v", "size_mib": 5}                                                           | EphemeralVolume
            {"persistence": "host", "name": "d", "mount": "/v", "size_mib": 5}                       | PersistentVolume
            {"name": "d", "mount": "/v", "size_mib": 5}                                              | PersistentVolume
            {"name": "d", "ref": "x", "size_mib": 5}                                                 | PersistentVolume
            """)
    void kindFollowsTheFields(String volume, String kind) {
        String content = "{\"address\": \"0xabc\", \"volumes\": [" + volume + "]}";

        InstanceContent instance = (InstanceContent) AlephMessages.parseContent(MessageType.INSTANCE, content);

        assertThat(instance.volumes().getFirst().getClass().getSimpleName()).isEqualTo(kind);
        assertThat(Fixtures.parseTree(AlephMessages.contentToJson(instance))).isEqualTo(Fixtures.parseTree(content));
    }
}
